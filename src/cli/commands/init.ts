export async function runInit(_dir: string): Promise<number> {
  return 0
}
