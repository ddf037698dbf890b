#!/bin/sh
# Claims a metric of another source.
echo '{"metrics":[{"name":"cpu.percent","value":99,"unit":"percent"}]}'
