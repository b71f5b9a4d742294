/** Reading /proc: a process's command and group, the live members of a process group (Linux). */
import { readFileSync, readdirSync } from 'node:fs';

/**
 * @param pid a process id
 * @returns its command name and process group, or undefined once it is gone (zombies count as gone)
 */
export function procStat(pid: number): { comm: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const [state, , pgrp] = stat.slice(close + 2).split(' ');
    if (state === 'Z') return undefined;
    return { comm: stat.slice(stat.indexOf('(') + 1, close), pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/**
 * @param pgid a process group
 * @returns the live processes in it
 */
export function groupPids(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => procStat(pid)?.pgrp === pgid);
}
