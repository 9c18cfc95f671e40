import {closeSync, linkSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import {mkdir, rename, rm, unlink, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {threadId} from 'node:worker_threads'

let counter = 0

/** A sibling temp name: same directory, so the rename is atomic; unique per process and thread (build workers write the same cache). */
export function asideName(file: string): string {
  return path.join(path.dirname(file), '.' + path.basename(file) + '.' + process.pid + '-' + threadId + '.' + (counter++).toString(36) + '.tmp')
}

/** Write a file aside, then rename it over the target: readers see the old or the new file, never half of one. */
export async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const aside = asideName(file)
  try {
    await writeFile(aside, data)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    await mkdir(path.dirname(file), {recursive: true})
    await writeFile(aside, data)
  }
  try {
    await rename(aside, file)
  } catch (error) {
    await rm(aside, {force: true})
    throw error
  }
}

/** The synchronous twin of `writeAtomic`, for small state files. */
export function writeAtomicSync(file: string, data: string | Uint8Array): void {
  const aside = asideName(file)
  try {
    try {
      writeFileSync(aside, data)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      mkdirSync(path.dirname(file), {recursive: true})
      writeFileSync(aside, data)
    }
    replaceSync(aside, file)
  } catch (error) {
    rmSync(aside, {force: true})
    throw error
  }
}

/**
 * Rename `aside` over `file` without waiting for the old file's blocks to be
 * freed, which a plain rename does in the call (on ext4, ~55 ms for a 60 MB
 * file: a dataset at 10,000 pages). The old file gets a second name first, so
 * the rename only swaps names, and that name is unlinked on the thread pool.
 * Readers see the old file or the new one, as with a plain rename.
 */
export function replaceSync(aside: string, file: string): void {
  const old = asideName(file)
  let linked = true
  try {
    linkSync(file, old)
  } catch {
    // No old file (or no hard links here): nothing to free.
    linked = false
  }
  try {
    renameSync(aside, file)
  } catch (error) {
    if (linked) rmSync(old, {force: true})
    throw error
  }
  if (linked) {
    const freed: Promise<void> = unlink(old)
      .catch(() => undefined)
      .finally(() => freeing.delete(freed))
    freeing.add(freed)
  }
}

/** The old names `replaceSync` is still unlinking. */
const freeing = new Set<Promise<void>>()

/** Resolves once every old name `replaceSync` left to the thread pool is gone (for whoever lists the folder next). */
export async function oldNamesFreed(): Promise<void> {
  while (freeing.size > 0) await Promise.all([...freeing])
}

/**
 * A file written aside piece by piece, then renamed over its target (`commit`) or removed (`abort`). Its descriptor
 * is closed at most once: a second close of the number closes whatever was opened with it since. The dev server
 * stops builds after some writers have finished; aborting them closed other files (a cache write failed with EBADF,
 * and an edit never showed).
 */
export class AsideFile {
  private readonly aside: string
  private readonly fd: number
  private closed = false

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), {recursive: true})
    this.aside = asideName(file)
    this.fd = openSync(this.aside, 'w')
  }

  /** Write all of `data` (the first `length` bytes). */
  write(data: Uint8Array, length = data.length): void {
    let written = 0
    while (written < length) written += writeSync(this.fd, data, written, length - written)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    closeSync(this.fd)
  }

  commit(): void {
    this.close()
    replaceSync(this.aside, this.file)
  }

  abort(): void {
    try {
      this.close()
    } finally {
      rmSync(this.aside, {force: true})
    }
  }
}
