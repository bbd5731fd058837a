#!/usr/bin/env bash
# Installs what the test suite runs against, from Debian's packages, when missing:
#   tshark     the independent NetFlow/IPFIX decoder the decoder tests compare with
#   softflowd  a real flow exporter (v5, v9, IPFIX) fed from generated captures
#   pmacct     pmacctd and its nfprobe plugin: a second real exporter, fed the same way
#   influxdb   a real InfluxDB 1.6 server the storage tests start on loopback ports
#   docker-compose  validates docker-compose.yml offline (`docker-compose config`, no daemon)
#   systemd    systemd-analyze verifies the shipped unit file (deploy/flowcast.service)
#   prometheus a real Prometheus the dashboard tests run every PromQL panel and alert against
#   prometheus-alertmanager  the real Alertmanager the detection alert tests post to
#   fastnetmon the reference attack detector the detection evaluation runs beside flowcast
#   chromium   the browser the web console's tests drive headless (playwright-core, no download)
# Safe to run again: it installs nothing that is already there.
set -euo pipefail

need=()
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v softflowd >/dev/null 2>&1 || [ -x /usr/sbin/softflowd ] || need+=(softflowd)
command -v pmacctd >/dev/null 2>&1 || [ -x /usr/sbin/pmacctd ] || need+=(pmacct)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v fastnetmon >/dev/null 2>&1 || [ -x /usr/sbin/fastnetmon ] || need+=(fastnetmon)
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  echo "test dependencies present: tshark, softflowd, pmacctd, influxd, docker-compose, prometheus, systemd-analyze, alertmanager, fastnetmon, chromium"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing from Debian packages: ${need[*]}"
$sudo apt-get update -qq
# wireshark-common asks whether non-root users may capture; the tests only read files.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian's influxdb package starts a system service; the tests run their own on free ports.
if [[ " ${need[*]} " == *" influxdb "* ]]; then
  $sudo systemctl disable --now influxdb >/dev/null 2>&1 || $sudo service influxdb stop >/dev/null 2>&1 || true
fi
# Likewise Debian's prometheus package: the tests start their own on a free loopback port.
if [[ " ${need[*]} " == *" prometheus "* ]]; then
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || $sudo service prometheus stop >/dev/null 2>&1 || true
fi
if [[ " ${need[*]} " == *" fastnetmon "* ]]; then
  $sudo systemctl disable --now fastnetmon >/dev/null 2>&1 || $sudo service fastnetmon stop >/dev/null 2>&1 || true
fi
if [[ " ${need[*]} " == *" prometheus-alertmanager "* ]]; then
  $sudo systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || $sudo service prometheus-alertmanager stop >/dev/null 2>&1 || true
fi
echo "installed: ${need[*]}"
