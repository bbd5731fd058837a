#!/bin/bash
# Run once by the influxdb image after its initial setup (/docker-entrypoint-initdb.d): map the
# InfluxQL database "flowcast", retention policy "autogen", to the bucket the setup created, as
# the default retention policy. InfluxDB 2.7 would offer a virtual mapping of the same name; an
# explicit one is listed by `influx v1 dbrp list` and survives a bucket rename.
set -euo pipefail
influx v1 dbrp create \
  --db "${DOCKER_INFLUXDB_INIT_BUCKET}" \
  --rp autogen \
  --bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --org-id "${DOCKER_INFLUXDB_INIT_ORG_ID}" \
  --default
