// b24c-harness/1 harness for @bitrix24/b24jssdk through its webhook client, B24Hook.fromWebhookUrl.
// variant null: the callMethod / callBatch API; variant "actions.v2": b24.actions.v2.call / .batch.
// stdout carries protocol lines only: anything the SDK logs goes to stderr.
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { B24Hook } from '@bitrix24/b24jssdk'

const out = process.stdout.write.bind(process.stdout)
for (const level of ['log', 'info', 'debug', 'warn', 'trace']) console[level] = (...args) => console.error(...args)
const version = createRequire(import.meta.url)('@bitrix24/b24jssdk/package.json').version
const CANNOT = {
  'plain-http': 'B24Hook.fromWebhookUrl refuses a webhook URL that is not https (JSSDK_HOOK_URL_NOT_HTTPS)',
  'json-suffix': 'B24Hook builds the method URL itself; a caller cannot add .json',
  form: 'b24jssdk always POSTs a JSON body', multipart: 'b24jssdk always POSTs a JSON body',
  get: 'b24jssdk always POSTs', 'oauth-body': 'the webhook client B24Hook carries no OAuth token',
  'oauth-query': 'the webhook client B24Hook carries no OAuth token',
  'upper-case-method': 'not a b24jssdk option this harness exposes'
}
let start = null
const hooks = new Map()

function hook (role) {
  const cred = start.roles[role]
  if (!cred || cred.kind !== 'webhook' || !cred.webhook_url) return null
  if (!hooks.has(role)) hooks.set(role, B24Hook.fromWebhookUrl(cred.webhook_url))
  return hooks.get(role)
}

function raised (error, status) {
  const e = error ?? {}
  const code = e.code ?? e.answerError?.error
  return { raised: {
    type: e.constructor?.name ?? typeof e,
    code: code === undefined || code === null ? null : String(code),
    description: e.answerError?.errorDescription ?? e.description ?? e.message ?? null,
    status: typeof (e.status ?? status) === 'number' ? (e.status ?? status) : null,
    message: String(e.message ?? e)
  } }
}

// Besides getData() (`result` and `time`), a caller reads a list's envelope off the AjaxResult with
// its restApi:v2 readers: `total` with getTotal(), and the next page's `start` with getNext(), which
// sends it through the client it is given (here, one that only hands the start back). getTotal()
// says 0 when the portal sent none, so it is handed over for list methods only.
async function envelope (method, result) {
  if (!result?.isSuccess || typeof result.getTotal !== 'function') return {}
  const extra = /\.list$/i.test(method) ? { total: result.getTotal() } : {}
  if (result.isMore?.()) extra.next = await result.getNext({ call: (_method, params) => params.start })
  return extra
}

function fromResult (result, whole, extra = {}) {
  if (result && result.isSuccess === false) {
    const errors = typeof result.getErrors === 'function' ? [...result.getErrors()] : []
    const answer = raised(errors[0], result.getStatus?.())
    // what else the caller can read off the failed Result: the data it kept, the messages by key
    const body = { result: result.getData?.() ?? null, result_error: result.getErrorMessagesByKey?.() ?? null }
    if (!whole) answer.raised.body = body
    return answer
  }
  const data = result && typeof result.getData === 'function' ? result.getData() : result
  return whole ? { returned: data ? { ...data, ...extra } : null, whole: true } : { returned: data ?? null }
}

async function answer (msg) {
  if (msg.op === 'start') {
    start = msg
    return { op: 'started', protocol: 'b24c-harness/1', cannot: CANNOT,
      client: { name: '@bitrix24/b24jssdk', version, api: msg.variant ?? 'callMethod' } }
  }
  if (msg.op === 'stop') return { op: 'stopped' }
  const b24 = hook(msg.role)
  if (!b24) return { unsupported: `B24Hook needs a webhook URL; role ${msg.role} has none` }
  const v2 = start.variant === 'actions.v2'
  try {
    if (msg.op === 'call') {
      const result = v2 ? await b24.actions.v2.call.make({ method: msg.method, params: msg.params })
        : await b24.callMethod(msg.method, msg.params)
      return fromResult(result, true, await envelope(msg.method, result))
    }
    const calls = Object.fromEntries(Object.entries(msg.commands).map(([k, c]) => [k, [c.method, c.params]]))
    const result = v2 ? await b24.actions.v2.batch.make({ calls, options: { isHaltOnError: msg.halt } })
      : await b24.callBatch(calls, msg.halt)
    return fromResult(result, false)
  } catch (error) {
    return raised(error)
  }
}

const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  if (!line.trim()) continue
  const msg = JSON.parse(line)
  const reply = await answer(msg)
  out(JSON.stringify(msg.id === undefined ? reply : { id: msg.id, ...reply }) + '\n')
  if (msg.op === 'stop') break
}
process.exit(0)
