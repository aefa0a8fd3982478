// Whether a process lives, by its pid: signal 0 checks without sending anything (EPERM: it
// lives, under another user).
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
