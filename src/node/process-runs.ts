/**
 * Whether a process with this id runs on this machine: signal 0 asks without
 * sending anything, and EPERM means it runs as another user. Not a real
 * process id (0 and negatives name process groups) is not running.
 */
export function processRuns(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
