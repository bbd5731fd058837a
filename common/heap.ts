/**
 * How far the engine lets each thread's heap grow past what was live at its last full collection
 * before the next: a growing factor of 4 (V8's `--heap-growing-percent=300`) instead of the factor
 * of about 1.1 to 2 it chooses for small heaps.
 *
 * A decode worker holds a small live heap (20 to 30 MB: templates, the open windows, detection's
 * tables) and allocates hundreds of megabytes a second of records that die young; the few that
 * outlive two scavenges (records of a batch being rolled up, datagrams waiting in the queue) filled
 * its old generation to V8's small limit three to four times a second, and every full collection
 * marks the whole heap on the engine's helper threads. At 45,000 datagrams a second of softflowd's
 * IPFIX on the 2-core VM (6 s sends, one decode worker, one run each): without it 29 full
 * collections of the worker's heap, 32,001 datagrams dropped at the worker's queue and 10.0 s of
 * the process's CPU; with it as a command-line flag 12, none and 9.8 s; set here, 6, none and 8.5 s.
 * The cost is memory: each thread's heap may reach four times its live size before it is
 * collected (docs/operations.md, memory).
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 300;

/**
 * Sets the growing factor for every heap of the process. Called before any worker starts; V8 reads
 * the flag at each full collection, so the threads started afterwards and the main thread alike
 * follow it.
 */
export function tuneHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
