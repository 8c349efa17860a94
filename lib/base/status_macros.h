#ifndef KPI_LIB_BASE_STATUS_MACROS_H_
#define KPI_LIB_BASE_STATUS_MACROS_H_

// Abseil 20220623 (Debian 12) has no RETURN_IF_ERROR / ASSIGN_OR_RETURN.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KPI_STATUS_CONCAT_INNER_(a, b) a##b
#define KPI_STATUS_CONCAT_(a, b) KPI_STATUS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function when it is not OK.
#define KPI_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status kpi_status_ = (expr);       \
    if (!kpi_status_.ok()) return kpi_status_; \
  } while (false)

// `KPI_ASSIGN_OR_RETURN(auto x, F());` declares or assigns x from the value
// of a StatusOr, or returns its status from the enclosing function.
#define KPI_ASSIGN_OR_RETURN(lhs, expr)                                        \
  KPI_ASSIGN_OR_RETURN_IMPL_(KPI_STATUS_CONCAT_(kpi_statusor_, __LINE__), lhs, \
                             expr)

#define KPI_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)    \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // KPI_LIB_BASE_STATUS_MACROS_H_
