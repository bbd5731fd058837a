/**
 * A worker thread's name and priority in the operating system (Linux; elsewhere nothing happens).
 *
 * The name shows in `top -H`, `ps -L` and /proc/<pid>/task/<tid>/comm (15 characters at most), so an
 * operator sees which thread is busy and bench:ingest reads each thread's CPU. The priority says what gives way when the cores are busy: the receiving thread and the
 * decode workers keep the default, the store thread and the analytics worker run "nicer", so a
 * forecast run or a database write on a loaded machine never takes the core the receiving thread
 * needs to read its sockets and answer health. On Linux a thread is a task of its own: setpriority
 * on its id lowers that thread alone (threads it starts afterwards would inherit it; the libuv
 * pool, where DuckDB's queries run, is shared and keeps the default). Lowering a priority needs
 * no privilege; a process already running nicer than asked keeps its own (the call is refused).
 */
import { readlinkSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The calling thread's task id, or undefined where /proc/thread-self does not exist. */
function threadId(): number | undefined {
  try {
    const id = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Names the calling thread and sets its nice value; returns what could not be done, if anything. */
export function settleThread(name: string, nice: number): string | undefined {
  const id = threadId();
  if (id === undefined) return 'no /proc/thread-self: thread name and priority left as they are';
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
    setPriority(id, nice);
    return undefined;
  } catch (err) {
    return `thread name or priority not set: ${String(err)}`;
  }
}
