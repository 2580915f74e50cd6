#!/usr/bin/env node
'use strict'
// kafkajs (pinned in package.json) driven by ThirdPartyGroupClientsTest. Prints one JSON object
// per line on stdout; kafkajs' own log goes to stderr.
//
//   node kafkajs-client.js consume --bootstrap HOST:PORT --topic T --group G
//        [--max-messages N] [--timeout-ms MS] [--client-id ID]
//     Joins group G (from the earliest offset when the group has no committed offset), auto-commits,
//     and prints {"event":"assigned",...} after every join/sync and {"event":"record",...} per
//     message. Leaves the group (disconnect: commit, LeaveGroup) and exits 0 after N messages, or
//     when a line "stop" arrives on stdin or stdin closes; prints {"event":"stopped",...} last.
//     Exits 2 after --timeout-ms (default 120000) and 1 when the consumer crashes.
//
//   node kafkajs-client.js produce --bootstrap HOST:PORT --topic T --count N
//        [--partitions P] [--prefix S] [--client-id ID]
//     Sends N messages (key k<i>, value <prefix>-<i>, header seq=<i>, to partition i % P when P
//     is given) with acks=-1 and prints {"event":"produced",...} with the broker's answers.
//
//   node kafkajs-client.js transact --bootstrap HOST:PORT --topic T --transactional-id ID
//        --transactions N --per-transaction M [--group G] [--client-id ID]
//     Runs N transactions of M messages (value t<n>-<i>), each also committing offset n+1 of
//     partition 0 of T for group G when given (sendOffsets); every third one (n % 3 == 2) is
//     aborted, the others committed. Prints {"event":"transacted","outcomes":[...]}.

const { Kafka, Partitioners, logLevel } = require('kafkajs')
const readline = require('readline')

function parseArgs(argv) {
  const [mode, ...rest] = argv
  const opts = {}
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i].startsWith('--') || i + 1 >= rest.length) {
      fail(`bad argument ${rest[i]}`)
    }
    opts[rest[i].slice(2)] = rest[i + 1]
  }
  return { mode, opts }
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function fail(message) {
  process.stderr.write(`kafkajs-client: ${message}\n`)
  process.exit(64)
}

function required(opts, name) {
  if (opts[name] === undefined) fail(`--${name} is required`)
  return opts[name]
}

const stderrLogger = () => ({ namespace, level, label, log }) => {
  const { message, ...extra } = log
  process.stderr.write(`[${label}] ${namespace}: ${message} ${JSON.stringify(extra)}\n`)
}

function kafkaFor(opts, defaultClientId) {
  return new Kafka({
    clientId: opts['client-id'] || defaultClientId,
    brokers: [required(opts, 'bootstrap')],
    logLevel: logLevel.INFO,
    logCreator: stderrLogger,
    retry: { initialRetryTime: 100, retries: 8 },
  })
}

async function consume(opts) {
  const topic = required(opts, 'topic')
  const groupId = required(opts, 'group')
  const maxMessages = opts['max-messages'] ? Number(opts['max-messages']) : Infinity
  const timeoutMs = Number(opts['timeout-ms'] || 120000)
  const consumer = kafkaFor(opts, 'kafkajs-consumer').consumer({
    groupId,
    sessionTimeout: 10000,
    rebalanceTimeout: 20000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 300,
    retry: { retries: 8 },
  })
  let consumed = 0
  let stopping = null
  const stop = (reason, code) => {
    if (stopping) return stopping
    stopping = (async () => {
      try {
        await consumer.disconnect()
        emit({ event: 'stopped', reason, consumed })
      } catch (e) {
        emit({ event: 'error', phase: 'disconnect', error: String(e) })
        code = code || 1
      }
      process.exit(code)
    })()
    return stopping
  }

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    emit({
      event: 'assigned',
      memberId: payload.memberId,
      leaderId: payload.leaderId,
      isLeader: payload.isLeader,
      partitions: [...(payload.memberAssignment[topic] || [])].sort((a, b) => a - b),
    })
  })
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    emit({ event: 'crash', error: String(payload.error), restart: payload.restart })
    if (!payload.restart) stop('crash', 1)
  })

  const timer = setTimeout(() => stop('timeout', 2), timeoutMs)
  timer.unref()
  readline.createInterface({ input: process.stdin }).on('line', line => {
    if (line.trim() === 'stop') stop('stdin', 0)
  }).on('close', () => stop('stdin-closed', 0))

  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    autoCommit: true,
    eachMessage: async ({ topic: t, partition, message }) => {
      consumed++
      emit({
        event: 'record',
        topic: t,
        partition,
        offset: Number(message.offset),
        key: message.key === null ? null : message.key.toString(),
        value: message.value === null ? null : message.value.toString(),
      })
      if (consumed >= maxMessages) stop('max-messages', 0)
    },
  })
  emit({ event: 'running' })
}

async function produce(opts) {
  const topic = required(opts, 'topic')
  const count = Number(required(opts, 'count'))
  const partitions = opts.partitions ? Number(opts.partitions) : null
  const prefix = opts.prefix || 'kafkajs'
  const producer = kafkaFor(opts, 'kafkajs-producer').producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const messages = []
  for (let i = 0; i < count; i++) {
    const message = { key: `k${i}`, value: `${prefix}-${i}`, headers: { seq: String(i) } }
    if (partitions) message.partition = i % partitions
    messages.push(message)
  }
  const results = await producer.send({ topic, acks: -1, messages })
  await producer.disconnect()
  emit({
    event: 'produced',
    count,
    results: results.map(r => ({ partition: r.partition, errorCode: r.errorCode, baseOffset: Number(r.baseOffset) })),
  })
}

async function transact(opts) {
  const topic = required(opts, 'topic')
  const transactions = Number(required(opts, 'transactions'))
  const perTransaction = Number(required(opts, 'per-transaction'))
  const group = opts.group
  const producer = kafkaFor(opts, 'kafkajs-transactional').producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    transactionalId: required(opts, 'transactional-id'),
    idempotent: true,
    maxInFlightRequests: 1,
  })
  await producer.connect()
  const outcomes = []
  for (let t = 0; t < transactions; t++) {
    const transaction = await producer.transaction()
    const messages = []
    for (let i = 0; i < perTransaction; i++) messages.push({ key: `k${i}`, value: `t${t}-${i}` })
    await transaction.send({ topic, acks: -1, messages })
    if (group) {
      // The offsets of a pretend input topic, committed with the transaction (KIP-98's sendOffsetsToTransaction).
      await transaction.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset: String(t + 1) }] }] })
    }
    const abort = t % 3 === 2
    if (abort) await transaction.abort()
    else await transaction.commit()
    outcomes.push(abort ? 'aborted' : 'committed')
  }
  await producer.disconnect()
  emit({ event: 'transacted', outcomes })
}

const { mode, opts } = parseArgs(process.argv.slice(2))
const run = mode === 'consume' ? consume : mode === 'produce' ? produce : mode === 'transact' ? transact : null
if (!run) fail(`unknown mode ${mode}; use consume, produce or transact`)
run(opts).catch(e => {
  emit({ event: 'error', error: String(e), stack: e.stack })
  process.exit(1)
})
