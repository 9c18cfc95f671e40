import {existsSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {loadConfig} from '../../node/config/load.js'
import {UserError} from '../../node/errors.js'
import {startServe} from '../../node/server/serve.js'

/** `tagpress serve [--port N] [--host]`: a production-like preview of the built site. */
export async function runServe(args: string[]): Promise<number> {
  const {values} = parseArgs({
    args,
    options: {port: {type: 'string'}, host: {type: 'boolean'}, out: {type: 'string'}, config: {type: 'string'}},
    strict: true
  })
  const config = await loadConfig(process.cwd(), {
    ...(values.config ? {config: values.config} : {}),
    ...(values.out ? {out: values.out} : {}),
    ...(values.port ? {port: Number(values.port)} : {}),
    ...(values.host ? {host: '0.0.0.0'} : {})
  })
  if (!existsSync(path.join(config.out, 'site', 'index.html')) && !existsSync(path.join(config.out, 'site'))) {
    throw new UserError('Nothing to serve in ' + path.join(config.out, 'site') + ': run `tagpress build` first')
  }
  const server = await startServe(config)
  process.stderr.write('tagpress serve: ' + server.url + '\n')
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void server.close().then(resolve)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  return 0
}
