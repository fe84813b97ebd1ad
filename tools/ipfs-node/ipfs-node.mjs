#!/usr/bin/env node
// An IPFS node for daofed's tests, demos and members without Kubo.
//
// Helia (the maintained JavaScript IPFS) on libp2p (TCP, noise, yamux, identify) with
// bitswap, behind a small HTTP server that speaks the part of Kubo's RPC API daofed
// uses, with Kubo's answers and CIDs, so one Python client serves both nodes.
//
//   node ipfs-node.mjs --repo DIR [--api-host HOST] [--api-port PORT]
//                      [--swarm MULTIADDR]... [--fetch-timeout SECONDS] [--stop-on-stdin-close]
//
// Prints one line `ipfs-node ready api=http://HOST:PORT peer=ID swarm=ADDR,...` on
// stdout once both listen. Blocks (one file each), pins and the peer key live in DIR,
// so a restart keeps them. SIGTERM/SIGINT stop it cleanly; with --stop-on-stdin-close it
// also stops when its stdin closes (a parent that gave it a pipe takes it down with it).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { depthFirstWalker } from '@helia/utils'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { FsBlockstore } from 'blockstore-fs'
import Busboy from 'busboy'
import * as cborg from 'cborg'
import { FsDatastore } from 'datastore-fs'
import { createHeliaLight } from 'helia'
import { Key } from 'interface-datastore'
import { exporter } from 'ipfs-unixfs-exporter'
import { importFile } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'

const USAGE = 'usage: ipfs-node.mjs --repo DIR [--api-host HOST] [--api-port PORT] ' +
  '[--swarm MULTIADDR]... [--fetch-timeout SECONDS] [--stop-on-stdin-close]'
const { values: args } = parseArgs({
  options: {
    repo: { type: 'string' },
    'api-host': { type: 'string', default: '127.0.0.1' },
    'api-port': { type: 'string', default: '0' },
    swarm: { type: 'string', multiple: true, default: ['/ip4/127.0.0.1/tcp/0'] },
    'fetch-timeout': { type: 'string', default: '20' },
    'stop-on-stdin-close': { type: 'boolean', default: false }
  }
})
if (!args.repo) {
  console.error(USAGE)
  process.exit(2)
}
const fetchTimeoutMs = Number(args['fetch-timeout']) * 1000
const MAX_LINKS = 174 // Kubo's balanced DAG: at most 174 links per node
const DEFAULT_CHUNK = 262144 // Kubo's default chunker, size-262144

// The repo's pid file plays Kubo's repo lock: one node per repo, and a lock left by a
// killed node does not block the next start.
const pidFile = join(args.repo, 'ipfs-node.pid')
mkdirSync(args.repo, { recursive: true })
claimRepo()

const helia = withBitswap(withLibp2pLight(createHeliaLight({
  blockstore: new FsBlockstore(join(args.repo, 'blocks')),
  datastore: new FsDatastore(join(args.repo, 'datastore')),
  routers: [] // no delegated routing, no gateways: nothing but the peers it is told about
}), {
  addresses: { listen: args.swarm },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify() },
  peerDiscovery: []
}))
await helia.start()

const routes = {
  '/api/v0/add': add,
  '/api/v0/cat': cat,
  '/api/v0/pin/add': pinAdd,
  '/api/v0/pin/rm': pinRm,
  '/api/v0/pin/ls': pinLs,
  '/api/v0/repo/gc': repoGc,
  '/api/v0/block/stat': blockStat,
  '/api/v0/id': id,
  '/api/v0/version': version,
  '/api/v0/swarm/connect': swarmConnect,
  '/api/v0/swarm/peers': swarmPeers
}
const server = createServer((request, response) => {
  serve(request, response).catch(error => fail(response, error))
})
await new Promise((resolve, reject) => {
  server.once('error', reject)
  server.listen(Number.parseInt(args['api-port'], 10), args['api-host'], resolve)
})

const { address, port } = server.address()
const host = address.includes(':') ? `[${address}]` : address
const swarm = helia.libp2p.getMultiaddrs().map(String).join(',')
console.log(`ipfs-node ready api=http://${host}:${port} kind=helia peer=${helia.libp2p.peerId} swarm=${swarm}`)

let stopping = false
async function shutdown (reason) {
  if (stopping) return
  stopping = true
  try {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
    await helia.stop()
    rmSync(pidFile, { force: true })
  } catch (error) {
    console.error(`ipfs-node: error while stopping on ${reason}: ${error.message}`)
    process.exit(1)
  }
  process.exit(0)
}
process.on('unhandledRejection', error => { // one bad request must not take the node down
  console.error(`ipfs-node: ${error?.stack ?? error}`)
})
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
if (args['stop-on-stdin-close']) {
  process.stdin.on('close', () => shutdown('stdin close'))
  process.stdin.resume()
}

// --- HTTP: Kubo's conventions -------------------------------------------------------

/** An error Kubo would report with its words; `code` 1 marks a caller's mistake (400). */
class KuboError extends Error {
  constructor (message, code = 0) {
    super(message)
    this.code = code
  }
}

async function serve (request, response) {
  const url = new URL(request.url, 'http://node')
  const handler = routes[url.pathname]
  if (handler === undefined) {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
    response.end('404 page not found\n')
    request.resume()
    return
  }
  if (request.method !== 'POST') {
    response.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8' })
    response.end('405 - Method Not Allowed\n')
    request.resume()
    return
  }
  const aborted = new AbortController()
  response.on('close', () => aborted.abort())
  await handler(url.searchParams, request, response, aborted.signal)
}

function fail (response, error) {
  if (response.headersSent) { // a stream broke half-way: Kubo's trailer says so
    response.addTrailers({ 'X-Stream-Error': error.message })
    response.end()
    return
  }
  const code = error instanceof KuboError ? error.code : 0
  response.writeHead(code === 1 ? 400 : 500, { 'Content-Type': 'application/json' })
  response.end(JSON.stringify({ Message: error.message, Code: code, Type: 'error' }) + '\n')
}

function reply (response, value) {
  response.writeHead(200, { 'Content-Type': 'application/json' })
  response.end(JSON.stringify(value) + '\n')
}

function cidArg (query) {
  const arg = query.get('arg')
  if (!arg) throw new KuboError('argument "ipfs-path" is required', 1)
  const text = arg.replace(/^\/ipfs\//, '')
  try {
    return CID.parse(text, text.startsWith('b') ? base32 : base58btc)
  } catch {
    throw new KuboError(`invalid path "${arg}": invalid cid: ${text}`)
  }
}

function flag (query, name, fallback) {
  const value = query.get(name)
  return value === null ? fallback : value === '' || value === 'true'
}

// --- fetching: local first, then bitswap from connected peers, bounded ----------------

/**
 * Options for reading blocks: peers are asked only when some are connected and the
 * caller did not say `offline=true`, so an absent CID fails instead of hanging. The
 * command is stopped after `timeout` (Kubo's option: a duration, e.g. `10s`, for the
 * whole command) or when --fetch-timeout passes without a block arriving; `progress()`
 * says a block arrived. Only the idle timer can cut a long transfer that keeps moving.
 */
function fetching (query, signal) {
  const offline = flag(query, 'offline', false) || helia.libp2p.getConnections().length === 0
  const idle = new AbortController()
  let timer
  const progress = () => {
    clearTimeout(timer)
    timer = setTimeout(() => idle.abort(), fetchTimeoutMs)
  }
  progress()
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true })
  const signals = [signal, idle.signal]
  let waitMs = fetchTimeoutMs
  if (query.has('timeout')) {
    waitMs = duration(query.get('timeout'))
    signals.push(AbortSignal.timeout(waitMs))
  }
  return { offline, waitMs, progress, onProgress: progress, signal: AbortSignal.any(signals) }
}

function duration (text) {
  const found = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text ?? '')
  if (!found) throw new KuboError(`invalid duration "${text}"`, 1)
  return Number(found[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[found[2]]
}

/** Run `work`, saying a block nobody provided in Kubo's words ("could not find"). */
async function fetched (cid, options, work) {
  try {
    return await work()
  } catch (error) {
    if (error.name === 'BlockNotFoundWhileOfflineError') {
      throw new KuboError(`block was not found locally (offline): ipld: could not find ${cid}`)
    }
    if (options.signal.aborted) {
      const peers = helia.libp2p.getConnections().length
      throw new KuboError(`block was not found: no connected peer (${peers}) provided it ` +
        `within ${options.waitMs / 1000} s: ipld: could not find ${cid}`)
    }
    throw error
  }
}

// --- commands --------------------------------------------------------------------------

const discard = { put: async cid => cid, has: async () => false } // for only-hash

function importOptions (query) {
  const cidVersion = Number(query.get('cid-version') ?? '0')
  if (cidVersion !== 0 && cidVersion !== 1) throw new KuboError(`unknown CID version: ${cidVersion}`)
  const hash = query.get('hash') ?? 'sha2-256'
  if (hash !== 'sha2-256') throw new KuboError(`this node hashes with sha2-256 only, not ${hash}`)
  const chunker = query.get('chunker') ?? `size-${DEFAULT_CHUNK}`
  const size = /^size-(\d+)$/.exec(chunker)
  if (!size || Number(size[1]) <= 0) throw new KuboError(`this node chunks with size-N only, not ${chunker}`)
  return {
    cidVersion,
    rawLeaves: flag(query, 'raw-leaves', cidVersion === 1), // Kubo: raw leaves come with CIDv1
    chunker: fixedSize({ chunkSize: Number(size[1]) }),
    layout: balanced({ maxChildrenPerNode: MAX_LINKS }),
    reduceSingleLeafToSelf: true,
    leafType: 'file'
  }
}

function cidText (cid, query) {
  const base = query.get('cid-base')
  if (cid.version === 0 || base === null) return cid.toString() // v0: base58btc; v1: base32
  if (base === 'base32') return cid.toString(base32)
  if (base === 'base58btc') return cid.toString(base58btc)
  throw new KuboError(`this node writes CIDs in base32 or base58btc only, not ${base}`)
}

async function add (query, request, response, signal) {
  await sharingGcLock(() => addFiles(query, request, response, signal))
}

async function addFiles (query, request, response, signal) {
  const options = importOptions(query)
  const onlyHash = flag(query, 'only-hash', false)
  const pin = flag(query, 'pin', true) && !onlyHash
  const quiet = flag(query, 'quieter', false) || flag(query, 'quiet', false)
  const blockstore = onlyHash ? discard : helia.blockstore
  const added = []
  await new Promise((resolve, reject) => {
    const pending = []
    let failure
    let parser
    try {
      parser = Busboy({ headers: request.headers })
    } catch (error) {
      reject(new KuboError(`add needs a multipart body: ${error.message}`, 1))
      return
    }
    parser.on('file', (name, stream, info) => {
      const path = info.filename ?? name
      pending.push(importFile({ path, content: stream }, blockstore, { ...options, signal })
        .then(entry => { added.push({ name: path, entry }) }, error => { failure ??= error; stream.resume() }))
    })
    parser.on('error', reject)
    parser.on('close', () => Promise.all(pending).then(() => failure ? reject(failure) : resolve()))
    signal.addEventListener('abort', () => reject(new Error('the client went away')), { once: true })
    request.pipe(parser)
  })
  if (added.length === 0) throw new KuboError('file argument was nil', 1)
  for (const { entry } of added) {
    if (pin) await pinned(entry.cid, { signal, offline: true })
  }
  response.writeHead(200, { 'Content-Type': 'application/json', 'X-Chunked-Output': '1' })
  for (const { name, entry } of quiet ? added.slice(-1) : added) {
    const hash = cidText(entry.cid, query)
    response.write(JSON.stringify({ Name: quiet ? hash : name, Hash: hash, Size: String(entry.size) }) + '\n')
  }
  response.end()
}

async function cat (query, request, response, signal) {
  const cid = cidArg(query)
  const options = fetching(query, signal)
  const offset = Number(query.get('offset') ?? '0')
  const length = query.has('length') ? Number(query.get('length')) : undefined
  const entry = await fetched(cid, options, () => exporter(cid, helia.blockstore, options))
  if (entry.type !== 'file' && entry.type !== 'raw') throw new KuboError('this dag node is a directory')
  const size = Number(entry.size)
  response.writeHead(200, {
    'Content-Type': 'text/plain',
    'X-Content-Length': String(Math.max(size - offset, 0)),
    'X-Stream-Output': '1',
    Trailer: 'X-Stream-Error'
  })
  const content = entry.content({ ...options, offset, length })
  await fetched(cid, options, async () => {
    for await (const chunk of content) {
      options.progress()
      if (!response.write(chunk)) await new Promise(resolve => response.once('drain', resolve))
    }
  })
  response.end()
}

/** Pin `cid` recursively (fetching what is missing); pinning it twice is fine, as in Kubo. */
async function pinned (cid, options) {
  try {
    await helia.pins.get(cid, options)
    return
  } catch (error) {
    if (error.name !== 'NotFoundError') throw error
  }
  try {
    // the CID's version goes with the pin: Helia keys pins by CIDv1, pin/ls answers as pinned
    const metadata = { cidVersion: cid.version }
    for await (const _ of helia.pins.add(cid, { ...options, metadata })) { /* walks and marks the DAG */ } // eslint-disable-line no-unused-vars
  } catch (error) {
    if (error.name !== 'AlreadyPinnedError') throw error
  }
}

/**
 * Remove the pin on `cid` and its mark on every block under it, once per block.
 *
 * Not `helia.pins.rm` (Helia 7.1.15): it decrements a block's count once per link to it,
 * so a DAG that repeats a block (identical chunks) unmarks it below other pins' claims,
 * and it keeps the removed root in the block's `pinnedBy` instead of the others, so a
 * later re-pin is not counted; gc then deletes blocks another pin still needs. This
 * writes Helia's own records (datastore keys and CBOR layout of helia/dist/src/pins.js,
 * pinned by package-lock.json) with `pinnedBy` as the truth.
 */
async function unpinned (cid, options) {
  const pin = await helia.pins.get(cid, options)
  await helia.datastore.delete(new Key(`/pin/${cid.toV1().toString(base36)}`), options)
  const walker = depthFirstWalker()({ blockstore: helia.blockstore, getCodec: helia.getCodec })
  const seen = new Set()
  for await (const node of walker.walk(cid, { ...options, depth: pin.depth })) {
    const key = new Key(`/pinned-block/${base36.encode(node.block.cid.multihash.bytes)}`)
    if (seen.has(key.toString())) continue
    seen.add(key.toString())
    const marks = cborg.decode(await helia.datastore.get(key, options))
    marks.pinnedBy = marks.pinnedBy.filter(root => !CID.decode(root).toV1().equals(cid.toV1())) // v0 or v1
    marks.pinCount = marks.pinnedBy.length
    if (marks.pinCount === 0) await helia.datastore.delete(key, options)
    else await helia.datastore.put(key, cborg.encode(marks), options)
  }
}

async function pinAdd (query, request, response, signal) {
  const cid = cidArg(query)
  const options = fetching(query, signal)
  await sharingGcLock(() => fetched(cid, options, () => pinned(cid, options)))
  reply(response, { Pins: [cid.toString()] })
}

async function pinRm (query, request, response, signal) {
  const cid = cidArg(query)
  try {
    await helia.pins.get(cid, { signal })
  } catch (error) {
    if (error.name === 'NotFoundError') throw new KuboError('not pinned or pinned indirectly')
    throw error
  }
  await unpinned(cid, { signal, offline: true })
  reply(response, { Pins: [cid.toString()] })
}

/** Kubo's `pin ls`: recursive pins only, the one kind this node makes. */
async function pinLs (query, request, response, signal) {
  const type = query.get('type') ?? 'all'
  if (type !== 'recursive') throw new KuboError(`this node lists recursive pins only (type=recursive), not type=${type}`, 1)
  const Keys = {}
  if (query.has('arg')) {
    const cid = cidArg(query)
    try {
      await helia.pins.get(cid, { signal })
    } catch (error) {
      if (error.name !== 'NotFoundError') throw error
      throw new KuboError(`path '/ipfs/${cid}' is not pinned`) // Kubo writes the path it resolved
    }
    Keys[cid.toString()] = { Type: 'recursive' }
  } else {
    for await (const pin of helia.pins.ls({ signal })) {
      const cid = pin.metadata?.cidVersion === 0 ? pin.cid.toV0() : pin.cid
      Keys[cid.toString()] = { Type: 'recursive' }
    }
  }
  reply(response, { Keys })
}

/** Kubo's `repo gc`: delete every block no pin reaches; one NDJSON line per deleted block. */
async function repoGc (query, request, response, signal) {
  response.writeHead(200, { 'Content-Type': 'application/json', 'X-Chunked-Output': '1', Trailer: 'X-Stream-Error' })
  await holdingGcLock(() => helia.gc({
    signal,
    onProgress: event => {
      if (event.type === 'helia:gc:deleted') response.write(JSON.stringify({ Key: { '/': event.detail.toString() } }) + '\n')
      if (event.type === 'helia:gc:error') response.write(JSON.stringify({ Error: event.detail.message }) + '\n')
    }
  }))
  response.end()
}

async function blockStat (query, request, response, signal) {
  const cid = cidArg(query)
  const options = fetching(query, signal)
  let size = 0
  await fetched(cid, options, async () => {
    for await (const chunk of helia.blockstore.get(cid, options)) size += chunk.byteLength
  })
  reply(response, { Key: cid.toString(), Size: size })
}

async function id (query, request, response) {
  const { libp2p } = helia
  reply(response, {
    ID: libp2p.peerId.toString(),
    PublicKey: Buffer.from(publicKeyToProtobuf(libp2p.peerId.publicKey)).toString('base64'),
    Addresses: libp2p.getMultiaddrs().map(String),
    AgentVersion: `${helia.info.name}/${helia.info.version}`,
    Protocols: libp2p.getProtocols()
  })
}

async function version (query, request, response) {
  reply(response, {
    Version: helia.info.version,
    Commit: '',
    Repo: '',
    System: `${process.arch}/${process.platform}`,
    Golang: `node-${process.versions.node}`
  })
}

async function swarmConnect (query, request, response, signal) {
  const arg = query.get('arg')
  if (!arg) throw new KuboError('argument "address" is required', 1)
  let address
  try {
    address = multiaddr(arg)
  } catch (error) {
    throw new KuboError(`invalid multiaddr "${arg}": ${error.message}`, 1)
  }
  try {
    const connection = await helia.libp2p.dial(address, { signal: AbortSignal.any([signal, AbortSignal.timeout(fetchTimeoutMs)]) })
    reply(response, { Strings: [`connect ${connection.remotePeer} success`] })
  } catch (error) {
    throw new KuboError(`connect ${arg} failure: ${error.message}`)
  }
}

async function swarmPeers (query, request, response) {
  const peers = helia.libp2p.getConnections().map(connection => ({
    Addr: connection.remoteAddr.decapsulateCode(421).toString(), // without /p2p/ID, as Kubo
    Peer: connection.remotePeer.toString(),
    Direction: connection.direction === 'inbound' ? 1 : 2
  }))
  reply(response, { Peers: peers.length > 0 ? peers : null }) // Kubo sends null for none
}

// --- Kubo's GC lock: add and pin/add share it, gc holds it alone -----------------------
// Without it, gc could run between an add's block writes and its pin and delete them.

let sharers = 0
let gcDone = null // settles when the running gc ends
let sharersGone = null // resolved when the last sharer leaves, while a gc waits

async function sharingGcLock (work) {
  while (gcDone !== null) await gcDone
  sharers++
  try {
    return await work()
  } finally {
    if (--sharers === 0) sharersGone?.resolve()
  }
}

async function holdingGcLock (work) {
  while (gcDone !== null) await gcDone
  const done = Promise.withResolvers()
  gcDone = done.promise
  try {
    if (sharers > 0) {
      sharersGone = Promise.withResolvers()
      await sharersGone.promise
      sharersGone = null
    }
    return await work()
  } finally {
    gcDone = null
    done.resolve()
  }
}

// --- the repo's owner ----------------------------------------------------------------

function claimRepo () {
  let owner
  try {
    owner = Number.parseInt(readFileSync(pidFile, 'utf8'), 10)
  } catch {
    owner = undefined // no node ever ran here, or the last one stopped cleanly
  }
  if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
    console.error(`ipfs-node: repo ${args.repo} is in use by process ${owner}`)
    process.exit(1)
  }
  writeFileSync(pidFile, `${process.pid}\n`)
}

function isAlive (pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return error.code === 'EPERM'
  }
}
