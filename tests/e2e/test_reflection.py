"""Server reflection and health, as a client with no schema of its own sees
them: list the services, describe each service and method, check that what
is served is exactly the contract in proto/, and health-check every service
through descriptors obtained by reflection only."""

import unittest

import grpc
from google.protobuf import descriptor_pb2

import harness
import reflected

SERVICES = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "kpi.v1.ForecastService",
    "kpi.v1.KpiService",
    "kpi.v1.ReportService",
]


class ReflectionTest(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = harness.channel(cls.server.address)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        super().tearDownClass()

    def api(self):
        return reflected.ReflectedApi(self.channel)

    def test_lists_every_service(self):
        self.assertEqual(self.api().list_services(), SERVICES)

    def test_describes_each_service_and_method(self):
        api = self.api()
        expected_methods = {
            "grpc.health.v1.Health": {"Check", "Watch"},
            "grpc.reflection.v1alpha.ServerReflection": {
                "ServerReflectionInfo"},
            "kpi.v1.ForecastService": {
                "ProjectKpi", "ProjectSeries", "BatchProjectKpis",
                "BatchProjectSeries", "StreamProjectSeries", "CalibrateStore",
                "GetCalibrationSkill"},
            "kpi.v1.ReportService": {"RenderReport"},
        }
        resources = ["Strategy", "Goal", "Measure", "Kpi", "Observation",
                     "Evaluation", "Reference"]
        plural = {"Strategy": "Strategies", "Kpi": "Kpis",
                  "Observation": "Observations", "Evaluation": "Evaluations",
                  "Reference": "References", "Goal": "Goals",
                  "Measure": "Measures"}
        expected_methods["kpi.v1.KpiService"] = {
            "ImportDataset", "ExportDataset", "ListChanges"} | {
                f"{verb}{r}" for r in resources
                for verb in ("Get", "Create", "Update", "Delete")} | {
                    f"List{plural[r]}" for r in resources}
        self.assertEqual(len(expected_methods["kpi.v1.KpiService"]), 38)

        for service_name in SERVICES:
            with self.subTest(service=service_name):
                files = api.file_containing_symbol(service_name)
                self.assertTrue(files, service_name)
                service = api.service(service_name)
                self.assertEqual(set(service.methods_by_name),
                                 expected_methods[service_name])
                for method in service.methods:
                    # Each method resolves on its own, and its messages
                    # are complete descriptors a client can build.
                    api.file_containing_symbol(method.full_name)
                    for message in (method.input_type, method.output_type):
                        self.assertTrue(message.full_name)
                        instance = api.message_class(message)()
                        self.assertEqual(instance.DESCRIPTOR.full_name,
                                         message.full_name)
        # Streaming shapes are part of the contract.
        stream = api.method("kpi.v1.ForecastService/StreamProjectSeries")
        self.assertTrue(stream.client_streaming and stream.server_streaming)
        project = api.method("kpi.v1.ForecastService/ProjectKpi")
        self.assertFalse(project.client_streaming or project.server_streaming)
        # Dependencies (resources.proto, google/rpc/status.proto and the
        # well-known types) were fetched by file name.
        for name in ("kpi/v1/resources.proto", "google/rpc/status.proto",
                     "google/protobuf/field_mask.proto",
                     "grpc/health/v1/health.proto"):
            self.assertIsNotNone(api.pool.FindFileByName(name), name)

    def test_messages_describe_fields_with_types(self):
        api = self.api()
        projection = api.message("kpi.v1.Projection").DESCRIPTOR
        fields = projection.fields_by_name
        self.assertEqual(fields["attainment_probability"].type,
                         fields["attainment_probability"].TYPE_DOUBLE)
        self.assertEqual(fields["years"].message_type.full_name,
                         "kpi.v1.YearProjection")
        self.assertEqual(fields["status"].enum_type.full_name,
                         "kpi.v1.ProgressStatus")
        # proto3 optional survives reflection (presence of target_value).
        self.assertIsNotNone(fields["target_value"].containing_oneof)
        kpi = api.message("kpi.v1.Kpi").DESCRIPTOR
        self.assertEqual(kpi.fields_by_name["display_name"].number, 3)

    def test_served_contracts_are_the_source_protos(self):
        harness.generated_stubs()
        from kpi.v1 import forecast_service_pb2
        from kpi.v1 import kpi_service_pb2
        from kpi.v1 import resources_pb2
        api = self.api()
        for module in (resources_pb2, kpi_service_pb2, forecast_service_pb2):
            source = descriptor_pb2.FileDescriptorProto()
            module.DESCRIPTOR.CopyToProto(source)
            served = api.file_proto(module.DESCRIPTOR.name)
            served.ClearField("source_code_info")
            self.assertGreater(len(served.message_type), 5)
            with self.subTest(file=module.DESCRIPTOR.name):
                self.assertEqual(served, source)

    def test_documentation_is_served(self):
        # What `grpcurl describe kpi.v1.Series` prints beside each field:
        # the comments of the .proto files, as source_code_info.
        api = self.api()

        def comment(file_name, path):
            served = api.file_proto(file_name)
            for location in served.source_code_info.location:
                if list(location.path) == path:
                    return location.leading_comments
            return ""

        resources = api.file_proto("kpi/v1/resources.proto")
        kpi = [m.name for m in resources.message_type].index("Kpi")
        display_name = [f.name for f in resources.message_type[kpi].field] \
            .index("display_name")
        self.assertIn("Name as written in Japanese",
                      comment("kpi/v1/resources.proto",
                              [4, kpi, 2, display_name]))
        forecast = api.file_proto("kpi/v1/forecast_service.proto")
        series = [m.name for m in forecast.message_type].index("Series")
        horizon = [f.name for f in forecast.message_type[series].field] \
            .index("horizon")
        self.assertIn("Years ahead of the last point to project",
                      comment("kpi/v1/forecast_service.proto",
                              [4, series, 2, horizon]))
        self.assertIn("Projects one stored KPI to its target year",
                      comment("kpi/v1/forecast_service.proto", [6, 0, 2, 0]))
        # The error details a client unpacks are described too.
        self.assertIsNotNone(
            api.file_containing_symbol("google.rpc.BadRequest"))

    def test_unknown_symbol_is_an_error_response(self):
        with self.assertRaisesRegex(reflected.ReflectionError,
                                    "reflection error 5"):
            self.api().file_containing_symbol("kpi.v1.NoSuchService")

    def test_health_check_through_reflection_only(self):
        # No generated health stub: the request and response types come
        # from the descriptors the server returns.
        api = self.api()
        check = api.method("grpc.health.v1.Health/Check")
        self.assertEqual(check.input_type.full_name,
                         "grpc.health.v1.HealthCheckRequest")
        serving = check.output_type.fields_by_name["status"].enum_type \
            .values_by_name["SERVING"].name
        for service in ["", "kpi.v1.KpiService", "kpi.v1.ForecastService",
                        "kpi.v1.ReportService", "grpc.health.v1.Health"]:
            with self.subTest(service=service):
                response = api.unary("grpc.health.v1.Health/Check",
                                     {"service": service})
                self.assertEqual(response["status"], serving)
        with self.assertRaises(grpc.RpcError) as caught:
            api.unary("grpc.health.v1.Health/Check",
                      {"service": "kpi.v1.NoSuchService"})
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)


if __name__ == "__main__":
    unittest.main()
