/*
 * The datagram sender of `npm run bench:ingest`: replays a recorded IPFIX stream to a UDP port at a
 * fixed rate for a fixed time, then prints one JSON line saying what it actually sent.
 *
 * Built at bench time with the machine's compiler (cc -O2), so the sender is never the bottleneck
 * a JavaScript loop would be. Usage:
 *
 *   sender STREAM_FILE HOST PORT RATE SECONDS TEMPLATE_INTERVAL_MS
 *
 * STREAM_FILE is a sequence of entries: kind (1 byte: 0 templates, 1 data), 1 byte of padding,
 * length (2 bytes), records (4 bytes: data records in the datagram, options records included;
 * what the IPFIX sequence number counts), flow records (4 bytes: records a collector should decode
 * as flows), then the datagram; every number big-endian. Template entries are sent first and again
 * every TEMPLATE_INTERVAL_MS; data entries are sent in a loop. Each datagram's sequence number is
 * rewritten to the records sent before it and its export time to the current second, so the
 * receiver sees one exporter whose stream never goes back however often the recording repeats.
 *
 * Pacing: every millisecond (absolute sleeps on CLOCK_MONOTONIC) it sends, with sendmmsg in
 * batches of up to 64, whatever the schedule says is due. Data datagrams are paced at RATE;
 * templates come on top. It never sends more than the schedule, and reports how far behind it
 * fell ("max_behind", datagrams) so a rate it could not keep is visible.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_DATAGRAM 65535

struct entry {
  int kind;
  uint16_t length;
  uint32_t records;
  uint32_t flow_records;
  unsigned char *bytes;
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static int fail(const char *what) {
  fprintf(stderr, "sender: %s: %s\n", what, errno ? strerror(errno) : "invalid input");
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: sender STREAM_FILE HOST PORT RATE SECONDS TEMPLATE_INTERVAL_MS\n");
    return 2;
  }
  const double rate = atof(argv[4]);
  const double seconds = atof(argv[5]);
  const double template_interval = atof(argv[6]) / 1000.0;
  const int port = atoi(argv[3]);
  /* Bounded by design: loopback benchmarks, never a flood. */
  if (rate < 1 || rate > 1e6 || seconds <= 0 || seconds > 120 || port < 1 || port > 65535 ||
      template_interval <= 0) {
    errno = 0;
    return fail("rate 1..1e6, seconds 0..120, port 1..65535, template interval > 0");
  }

  FILE *file = fopen(argv[1], "rb");
  if (file == NULL) return fail(argv[1]);
  struct entry *entries = NULL;
  size_t count = 0, capacity = 0;
  unsigned char head[12];
  while (fread(head, 1, sizeof head, file) == sizeof head) {
    if (count == capacity) {
      capacity = capacity ? capacity * 2 : 256;
      entries = realloc(entries, capacity * sizeof *entries);
      if (entries == NULL) return fail("realloc");
    }
    struct entry *e = &entries[count];
    e->kind = head[0];
    e->length = (uint16_t)((head[2] << 8) | head[3]);
    e->records = be32(head + 4);
    e->flow_records = be32(head + 8);
    e->bytes = malloc(e->length);
    errno = 0;
    if (e->bytes == NULL || e->length < 16 || fread(e->bytes, 1, e->length, file) != e->length) {
      return fail("truncated stream file");
    }
    count++;
  }
  fclose(file);

  size_t templates = 0, data = 0;
  for (size_t i = 0; i < count; i++) {
    if (entries[i].kind == 0) templates++;
    else data++;
  }
  errno = 0;
  if (data == 0) return fail("stream file has no data datagrams");
  struct entry **template_list = malloc((templates ? templates : 1) * sizeof *template_list);
  struct entry **data_list = malloc(data * sizeof *data_list);
  if (template_list == NULL || data_list == NULL) return fail("malloc");
  templates = data = 0;
  for (size_t i = 0; i < count; i++) {
    if (entries[i].kind == 0) template_list[templates++] = &entries[i];
    else data_list[data++] = &entries[i];
  }

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return fail("socket");
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) {
    errno = 0;
    return fail("HOST must be an IPv4 address");
  }
  if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) return fail("connect");

  static unsigned char buffers[BATCH][MAX_DATAGRAM];
  struct mmsghdr messages[BATCH];
  struct iovec iov[BATCH];
  memset(messages, 0, sizeof messages);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = buffers[i];
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }

  uint32_t sequence = 0;
  unsigned long long sent_data = 0, sent_templates = 0, flow_records = 0, send_errors = 0;
  unsigned long long max_behind = 0;
  size_t next_data = 0;
  const unsigned long long total = (unsigned long long)(rate * seconds + 0.5);
  const double start = now_seconds();
  double next_templates = start;
  struct timespec tick;
  clock_gettime(CLOCK_MONOTONIC, &tick);

  while (sent_data < total) {
    const double now = now_seconds();
    if (now - start > seconds * 2 + 5) break; /* hopelessly behind: stop, the report says so */
    int n = 0;
    const uint32_t export_time = (uint32_t)time(NULL);
    if (now >= next_templates) {
      for (size_t i = 0; i < templates && n < BATCH; i++) {
        struct entry *e = template_list[i];
        memcpy(buffers[n], e->bytes, e->length);
        put32(buffers[n] + 4, export_time);
        put32(buffers[n] + 8, sequence);
        sequence += e->records;
        iov[n].iov_len = e->length;
        n++;
      }
      sent_templates += (unsigned long long)n;
      next_templates += template_interval;
    }
    unsigned long long due = (unsigned long long)((now - start) * rate);
    if (due > total) due = total;
    if (due > sent_data && due - sent_data > max_behind) max_behind = due - sent_data;
    /* Fill the batch with due data datagrams. */
    int first_data = n;
    while (n < BATCH && sent_data + (unsigned long long)(n - first_data) < due) {
      struct entry *e = data_list[next_data];
      next_data = (next_data + 1) % data;
      memcpy(buffers[n], e->bytes, e->length);
      put32(buffers[n] + 4, export_time);
      put32(buffers[n] + 8, sequence);
      sequence += e->records;
      flow_records += e->flow_records;
      iov[n].iov_len = e->length;
      n++;
    }
    int done = 0;
    while (done < n) {
      int r = sendmmsg(fd, messages + done, (unsigned int)(n - done), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        send_errors++; /* e.g. ECONNREFUSED from an earlier ICMP error: skip that datagram */
        done++;
        continue;
      }
      done += r;
    }
    sent_data += (unsigned long long)(n - first_data);
    if (n == BATCH && sent_data < due) continue; /* more due: no sleep */
    tick.tv_nsec += 1000000;
    if (tick.tv_nsec >= 1000000000) {
      tick.tv_nsec -= 1000000000;
      tick.tv_sec++;
    }
    struct timespec current;
    clock_gettime(CLOCK_MONOTONIC, &current);
    if (current.tv_sec > tick.tv_sec || (current.tv_sec == tick.tv_sec && current.tv_nsec > tick.tv_nsec)) {
      tick = current; /* fell behind the tick: do not try to catch up on sleeps */
    } else {
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL);
    }
  }
  const double elapsed = now_seconds() - start;
  printf("{\"data\":%llu,\"templates\":%llu,\"flowRecords\":%llu,\"sendErrors\":%llu,\"seconds\":%.6f,"
         "\"target\":%llu,\"maxBehind\":%llu}\n",
         sent_data, sent_templates, flow_records, send_errors, elapsed, total, max_behind);
  close(fd);
  return 0;
}
