// A deliberately slow StreamProjectSeries client, to see the server's flow
// control: it sends --series series in request messages of --chunk from
// one thread while the main thread reads no result for --stall_seconds,
// then reads every result. A server that reads ahead only as far as the
// client reads stops taking requests during the stall; one that buffers
// would take them all.
//   kpi_stream_probe --server 127.0.0.1:PORT [--series 200000] [--chunk 250]
//                    [--stall_seconds 3] [--bad_every 1000]
// With --stall_seconds 0 it measures the bare stream rate (no CSV).
// Prints "sent_during_stall X of N results R ok O errors E expected_errors
// B out_of_order Q status CODE" and exits 0 only when every result came
// back in order, the errors are exactly the bad series, and the call is OK.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "kpi/v1/forecast_service.grpc.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "kpi_server address");
ABSL_FLAG(int64_t, series, 200000, "series to send");
ABSL_FLAG(int, chunk, 250, "series per request message, 1 to 1000");
ABSL_FLAG(double, stall_seconds, 3, "time to read nothing after starting");
ABSL_FLAG(int64_t, bad_every, 1000,
          "every K-th series (1-based) is invalid; 0: none");

namespace {

void AddSeries(int64_t i, bool bad,
               kpi::v1::StreamProjectSeriesRequest* request) {
  kpi::v1::Series* s = request->add_series();
  s->set_series_id(absl::StrCat("p", i));
  const int last = 2020 + static_cast<int>(i % 4);
  for (int k = 0; k < 5; ++k) {
    kpi::v1::SeriesPoint* p = s->add_points();
    p->set_fiscal_year(last - 4 + k);
    p->set_value(100 + static_cast<double>(i % 97) + 3 * k);
  }
  s->set_target_value(130);
  // The target year must come after the last point.
  s->set_target_fiscal_year(bad ? last : last + 5);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int64_t n = absl::GetFlag(FLAGS_series);
  const int64_t bad_every = absl::GetFlag(FLAGS_bad_every);
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_server),
                                     grpc::InsecureChannelCredentials());
  auto stub = kpi::v1::ForecastService::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->StreamProjectSeries(&context);

  const int chunk = absl::GetFlag(FLAGS_chunk);
  if (chunk < 1 || chunk > 1000) {
    std::cerr << "kpi_stream_probe: --chunk=" << chunk
              << "; accepted: 1 to 1000\n";
    return 2;
  }
  const absl::Time start = absl::Now();
  std::atomic<int64_t> sent{0};
  std::thread writer([&] {
    kpi::v1::StreamProjectSeriesRequest request;
    for (int64_t i = 1; i <= n; ++i) {
      AddSeries(i, bad_every > 0 && i % bad_every == 0, &request);
      if (request.series_size() < chunk && i < n) continue;
      if (!stream->Write(request)) break;
      request.Clear();
      sent.store(i, std::memory_order_relaxed);
    }
    stream->WritesDone();
  });

  std::this_thread::sleep_for(
      std::chrono::duration<double>(absl::GetFlag(FLAGS_stall_seconds)));
  const int64_t sent_during_stall = sent.load();

  int64_t results = 0, ok = 0, errors = 0, out_of_order = 0;
  int64_t expected_errors = 0, wrong_errors = 0;
  kpi::v1::StreamProjectSeriesResponse response;
  while (stream->Read(&response)) {
    for (const kpi::v1::ProjectionResult& r : response.results()) {
      const int64_t i = results + 1;  // 1-based series number
      if (r.index() != results || r.id() != absl::StrCat("p", i)) {
        ++out_of_order;
      }
      const bool bad = bad_every > 0 && i % bad_every == 0;
      if (bad) ++expected_errors;
      if (r.has_projection()) {
        ++ok;
        if (bad) ++wrong_errors;
      } else {
        ++errors;
        // INVALID_ARGUMENT, and only for the series made invalid.
        if (!bad || r.error().code() != 3) ++wrong_errors;
      }
      ++results;
    }
  }
  writer.join();
  const grpc::Status status = stream->Finish();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::cout << absl::StrFormat(
      "sent_during_stall %d of %d results %d ok %d errors %d "
      "expected_errors %d out_of_order %d seconds %.2f per_second %.0f "
      "status %d %s\n",
      sent_during_stall, n, results, ok, errors, expected_errors, out_of_order,
      seconds, results / seconds, static_cast<int>(status.error_code()),
      status.error_message());
  const bool good = status.ok() && results == n && out_of_order == 0 &&
                    wrong_errors == 0 && errors == expected_errors;
  return good ? 0 : 1;
}
