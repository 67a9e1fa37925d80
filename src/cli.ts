#!/usr/bin/env node
/**
 * The `effect-parallel` command. One subcommand today:
 *
 *   effect-parallel runner --postgres URL [--host HOST] [--port PORT] [--listen-host HOST]
 *                          [--size N|cores] [--weight N] [--interrupt-grace DURATION] [--timings default|fast-failover]
 *                          [--retention DURATION|never]
 *
 * starts a cluster runner (see `ClusterRunner`). `DATABASE_URL` is used when `--postgres` is absent.
 *
 * @since 0.2.0
 */
import "./internal/nodeVersion.ts"
import { NodeRuntime } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import { parseArgs } from "node:util"
import * as ClusterRunner from "./ClusterRunner.ts"

const usage = `usage: effect-parallel runner --postgres URL [--host HOST] [--port PORT] [--listen-host HOST]
                              [--size N|cores] [--weight N] [--interrupt-grace DURATION]
                              [--timings default|fast-failover] [--retention DURATION|never]`

const fail = (message: string): never => {
  process.stderr.write(`effect-parallel: ${message}\n${usage}\n`)
  process.exit(2)
}

const main = (argv: ReadonlyArray<string>): void => {
  const [command, ...rest] = argv
  if (command !== "runner") fail(command === undefined ? "a command is required" : `unknown command ${JSON.stringify(command)}`)
  let values: Record<string, string | undefined>
  try {
    values = parseArgs({
      args: rest,
      options: {
        postgres: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "listen-host": { type: "string" },
        size: { type: "string" },
        weight: { type: "string" },
        "interrupt-grace": { type: "string" },
        timings: { type: "string" },
        retention: { type: "string" }
      },
      strict: true
    }).values as Record<string, string | undefined>
  } catch (e) {
    return fail((e as Error).message)
  }
  const postgres = values.postgres ?? process.env.DATABASE_URL
  if (postgres === undefined) return fail("--postgres (or DATABASE_URL) is required")
  const port = values.port === undefined ? undefined : Number(values.port)
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) fail(`--port must be a port number, got ${values.port}`)
  const size = values.size === undefined || values.size === "cores" ? "cores" : Number(values.size)
  if (size !== "cores" && !(Number.isInteger(size) && size > 0)) fail(`--size must be a positive integer or "cores", got ${values.size}`)
  const timings = values.timings
  if (timings !== undefined && timings !== "default" && timings !== "fast-failover") {
    fail(`--timings must be "default" or "fast-failover", got ${timings}`)
  }
  const options: ClusterRunner.RunnerOptions = {
    postgres,
    host: values.host,
    port,
    listenHost: values["listen-host"],
    weight: values.weight === undefined ? undefined : Number(values.weight),
    pool: { size, interruptGrace: values["interrupt-grace"] as never },
    timings: timings as "default" | "fast-failover" | undefined,
    retention: values.retention as never
  }
  const address = `${values.host ?? "localhost"}:${port ?? 34431}`
  ClusterRunner.run(options, () => process.stdout.write(`effect-parallel runner ready at ${address} (pid ${process.pid})\n`)).pipe(
    Effect.tapError((e) => Effect.sync(() => process.stderr.write(`effect-parallel runner: ${e.message}\n`))),
    // the error was just printed, in one line
    NodeRuntime.runMain({ disableErrorReporting: true })
  )
}

main(process.argv.slice(2))
