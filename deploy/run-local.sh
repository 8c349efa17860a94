#!/usr/bin/env bash
# make run: placeholder until kpi_server lands (issue 2).
echo "kpi_server is not built yet" >&2
exit 1
