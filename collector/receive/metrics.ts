/**
 * The receiving thread's Prometheus metrics: the allow-list, the kernel's drops and receive
 * buffers, and what waits for (or was dropped before) the decoder.
 */
import { Gauge, type Registry } from 'prom-client';
import { mirroredCounter } from '../../common/metrics.js';
import type { Collector } from './service.js';
import { socketDrops } from './socket-drops.js';

/** What the receiving thread counts: the allow-list, the kernel's drops and receive buffers, datagrams dropped before a worker. */
export function registerReceiveMetrics(registry: Registry, collector: Collector): void {
  mirroredCounter(
    registry,
    'flowcast_exporters_not_allowed_total',
    'Datagrams dropped because their source is outside collector.allowedExporters',
    [],
    (set) => set({}, collector.notAllowed),
  );
  mirroredCounter(
    registry,
    'flowcast_socket_drops_total',
    'Datagrams the kernel dropped at the collector sockets before flowcast read them (receive buffer full)',
    [],
    (set) => set({}, socketDrops({ ports: collector.ports }) ?? 0),
  );
  new Gauge({
    name: 'flowcast_socket_receive_buffer_bytes',
    help: 'UDP receive buffer the kernel granted, by port',
    labelNames: ['port'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [port, bytes] of collector.receiveBuffers) this.set({ port: String(port) }, bytes);
    },
  });
  mirroredCounter(
    registry,
    'flowcast_queue_dropped_total',
    'Datagrams dropped because the receive queue was full',
    [],
    (set) => set({}, collector.route.dropped),
  );
  new Gauge({
    name: 'flowcast_queue_length',
    help: 'Datagrams waiting in the receive queue',
    registers: [registry],
    collect() {
      this.set(collector.route.pending);
    },
  });
  new Gauge({
    name: 'flowcast_queue_bytes',
    help: 'Bytes of datagrams waiting in the receive queue',
    registers: [registry],
    collect() {
      this.set(collector.route.pendingBytes);
    },
  });
}
