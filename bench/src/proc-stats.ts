import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux x86-64). */
const CLK_TCK = 100;

/** Resource use of one process, read from /proc. */
export interface ProcStats {
  pid: number;
  /** Resident set size in bytes (VmRSS). */
  rssBytes: number;
  /** Cumulative user + system CPU seconds. */
  cpuSeconds: number;
  /** When read (performance.now()). */
  at: number;
  /**
   * Seconds the main thread spent runnable but waiting for a CPU (/proc/<pid>/schedstat, 2nd
   * field): high values mean the machine was oversubscribed and the figures are pessimistic.
   */
  runQueueWaitSeconds: number;
}

/**
 * Reads RSS from /proc/<pid>/status and CPU time from /proc/<pid>/stat.
 * @param pid process id
 * @returns the figures (zeros if the process is gone)
 */
export function readProcStats(pid: number): ProcStats {
  const at = performance.now();
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may contain spaces) start at field 3 (state)
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11] ?? 0);
    const stime = Number(rest[12] ?? 0);
    let runQueueWaitSeconds = 0;
    try {
      runQueueWaitSeconds = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1] ?? 0) / 1e9;
    } catch {
      // schedstat is optional (kernel config)
    }
    return { pid, rssBytes: rssKb * 1024, cpuSeconds: (utime + stime) / CLK_TCK, at, runQueueWaitSeconds };
  } catch {
    return { pid, rssBytes: 0, cpuSeconds: 0, at, runQueueWaitSeconds: 0 };
  }
}

/**
 * CPU use between two readings of the same process, as a percentage of one core.
 * @param a earlier reading
 * @param b later reading
 * @returns percent of one core
 */
export function cpuPercent(a: ProcStats, b: ProcStats): number {
  const wall = (b.at - a.at) / 1000;
  return wall > 0 ? ((b.cpuSeconds - a.cpuSeconds) / wall) * 100 : 0;
}

/**
 * Share of wall time the process's main thread waited for a CPU while runnable.
 * @param a earlier reading
 * @param b later reading
 * @returns percent of wall time
 */
export function runQueueWaitPercent(a: ProcStats, b: ProcStats): number {
  const wall = (b.at - a.at) / 1000;
  return wall > 0 ? ((b.runQueueWaitSeconds - a.runQueueWaitSeconds) / wall) * 100 : 0;
}
