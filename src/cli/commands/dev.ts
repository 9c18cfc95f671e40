import {spawn} from 'node:child_process'
import {parseArgs} from 'node:util'
import {loadConfig} from '../../node/config/load.js'
import {startDevServer, type DevLog} from '../../node/dev/server.js'

/** `tagpress dev [--port N] [--host] [--open]`: the live preview; runs until interrupted. */
export async function runDev(args: string[]): Promise<number> {
  const {values} = parseArgs({
    args,
    options: {
      port: {type: 'string'},
      host: {type: 'boolean'},
      open: {type: 'boolean'},
      content: {type: 'string'},
      out: {type: 'string'},
      config: {type: 'string'}
    },
    strict: true
  })
  const config = await loadConfig(process.cwd(), {
    ...(values.config ? {config: values.config} : {}),
    ...(values.content ? {content: values.content} : {}),
    ...(values.out ? {out: values.out} : {}),
    ...(values.port ? {port: Number(values.port)} : {}),
    ...(values.host ? {host: '0.0.0.0'} : {})
  })
  const server = await startDevServer(config, {log: terminalLog()})
  if (values.open) openBrowser(server.url)
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void server.close().then(resolve)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  return 0
}

/** A status line redrawn in place on a terminal; when piped, only the ready line and errors. */
function terminalLog(): DevLog {
  const tty = process.stderr.isTTY === true && !process.env.CI
  let shown = false
  return {
    status: (line) => {
      if (tty) {
        process.stderr.write('\r\x1b[2K tagpress dev · ' + line)
        shown = true
      } else if (line.includes('ready at')) process.stderr.write('tagpress dev: ' + line + '\n')
    },
    error: (text) => {
      if (shown) process.stderr.write('\r\x1b[2K')
      shown = false
      process.stderr.write(text + '\n')
    },
    info: (text) => {
      if (shown) process.stderr.write('\r\x1b[2K')
      shown = false
      process.stderr.write(text + '\n')
    }
  }
}

function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'start' : 'xdg-open'
  spawn(command, [url], {stdio: 'ignore', detached: true}).on('error', () => {}).unref()
}
