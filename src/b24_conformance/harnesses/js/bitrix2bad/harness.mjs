// b24c-harness/1 harness for @2bad/bitrix: Bitrix(webhookUrl) and its generic call() and batch().
// The client GETs every request (params in the query string, got 11) through a 2-per-second queue,
// and rejects on any `error` in a payload; got's HTTPError carries the parsed body on .response.
// stdout carries protocol lines only: anything logged goes to stderr.
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'

const require = createRequire(import.meta.url)
const { Bitrix } = require('@2bad/bitrix')
const version = require('@2bad/bitrix/package.json').version
const out = process.stdout.write.bind(process.stdout)
for (const level of ['log', 'info', 'debug', 'warn', 'trace']) console[level] = (...args) => console.error(...args)
const CANNOT = {
  'json-suffix': '@2bad/bitrix builds the method URL itself', form: '@2bad/bitrix always GETs',
  multipart: '@2bad/bitrix always GETs', 'oauth-body': '@2bad/bitrix sends the token in the query string',
  'upper-case-method': 'not an @2bad/bitrix option'
}
let start = null
const clients = new Map()

function client (role, plain) {
  const cred = start.roles[role]
  let url = cred?.webhook_url ?? cred?.oauth_endpoint
  if (!url) return null
  if (plain) url = start.plain_origin.replace(/\/$/, '') + '/rest/' + url.split('/rest/')[1]
  const key = `${role}|${plain}`
  if (!clients.has(key)) clients.set(key, Bitrix(url.replace(/\/$/, ''), cred.kind === 'oauth' ? cred.token : undefined))
  return clients.get(key)
}

function raised (e) {
  const body = e?.response?.body
  const fromBody = body && typeof body === 'object' && body.error !== undefined
  return { raised: {
    type: e?.constructor?.name ?? typeof e,
    code: fromBody ? String(body.error) : (e?.code ?? null),
    description: fromBody ? (body.error_description ?? null) : (e?.message ?? null),
    status: typeof e?.response?.statusCode === 'number' ? e.response.statusCode : null,
    message: String(e?.message ?? e),
    ...(body !== undefined ? { body } : {}),
    notes: fromBody ? ['code and description read from got\'s HTTPError.response.body'] : []
  } }
}

async function answer (msg) {
  if (msg.op === 'start') {
    start = msg
    if (!msg.plain_origin) CANNOT['plain-http'] = 'the target has no plain-HTTP listener'
    return { op: 'started', protocol: 'b24c-harness/1', cannot: CANNOT, client: { name: '@2bad/bitrix', version, api: 'call' } }
  }
  if (msg.op === 'stop') return { op: 'stopped' }
  const bitrix = client(msg.role, msg.transport === 'plain-http')
  if (!bitrix) return { unsupported: `role ${msg.role} has no URL` }
  try {
    if (msg.op === 'call') return { returned: await bitrix.call(msg.method, msg.params), whole: true }
    const commands = Object.fromEntries(Object.entries(msg.commands).map(([k, c]) => [k, { method: c.method, params: c.params }]))
    if (msg.halt) return { unsupported: '@2bad/bitrix batch() offers no halt option' }
    return { returned: await bitrix.batch(commands), whole: true }
  } catch (error) {
    return raised(error)
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue
  const msg = JSON.parse(line)
  const reply = await answer(msg)
  out(JSON.stringify(msg.id === undefined ? reply : { id: msg.id, ...reply }) + '\n')
  if (msg.op === 'stop') break
}
process.exit(0)
