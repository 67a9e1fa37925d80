/**
 * The file writer behind `Speedup.plot`. Loaded on first use (with `effect/PlatformError` and
 * `node:fs/promises`), so importing `effect-parallel` does not pay for them.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as PlatformError from "effect/PlatformError"
import * as fs from "node:fs/promises"
import * as nodePath from "node:path"

const systemErrorTag = (code: unknown): PlatformError.SystemErrorTag => {
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return "NotFound"
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return "PermissionDenied"
    case "EEXIST":
      return "AlreadyExists"
    case "EBUSY":
      return "Busy"
    default:
      return "Unknown"
  }
}

/** Writes a text file, creating its directory; failures become a `PlatformError` naming the path. */
export const writeFile = (path: string, content: string): Effect.Effect<void, PlatformError.PlatformError> =>
  Effect.tryPromise({
    try: async () => {
      await fs.mkdir(nodePath.dirname(path), { recursive: true })
      await fs.writeFile(path, content, "utf8")
    },
    catch: (cause) =>
      PlatformError.systemError({
        _tag: systemErrorTag((cause as { code?: unknown } | null)?.code),
        module: "Speedup",
        method: "plot",
        pathOrDescriptor: path,
        description: cause instanceof Error ? cause.message : String(cause),
        cause
      })
  })
