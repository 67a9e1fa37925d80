/**
 * Per-task codecs, built once per task and cached on it: the hot path never allocates a codec per call.
 * A contract: the parent encodes payloads and decodes outcomes, the worker does the reverse.
 *
 * Values are encoded with the schema's own encoding (Type → Encoded), not with a JSON codec: the
 * transport is structured clone, which carries typed arrays, Dates, Maps, Sets, BigInt and nested
 * structures as they are, so a `Float64Array` payload travels without a base64 detour.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import type * as SchemaIssue from "effect/SchemaIssue"

/** A codec failure: where in the value, and what was expected. */
export interface CodecIssue {
  readonly path: string
  readonly message: string
}

export type CodecResult = { readonly ok: true; readonly value: unknown } | {
  readonly ok: false
  readonly issue: CodecIssue
}

export interface TaskCodec {
  readonly encodePayload: (u: unknown) => CodecResult
  readonly decodePayload: (u: unknown) => CodecResult
  readonly encodeSuccess: (u: unknown) => CodecResult
  readonly decodeSuccess: (u: unknown) => CodecResult
  readonly encodeError: (u: unknown) => CodecResult
  readonly decodeError: (u: unknown) => CodecResult
  /**
   * Hot-path shortcuts, where a codec has them (absent: use the functions above). `payloadIsEncoded(u)` /
   * `successIsEncoded(u)`: a cheap test that says `u` is valid and is its own encoding (primitive schemas:
   * `typeof u === "number"` for `Schema.Number`), so the sender may skip the encoder for it; false means
   * "ask the encoder" (which also gives the issue). `payloadAsIs` / `successAsIs`: the receiver's decode
   * returns its input (identity schemas), so it may skip the call.
   */
  readonly payloadIsEncoded?: ((u: unknown) => boolean) | undefined
  readonly successIsEncoded?: ((u: unknown) => boolean) | undefined
  readonly payloadAsIs?: boolean | undefined
  readonly successAsIs?: boolean | undefined
  /**
   * The success schema is `Schema.Number` itself (no checks, no encoding): a chunk's values may be written
   * straight into a `Float64Array` as they come (no array of values, no second pass to pack them).
   */
  readonly successIsNumber?: boolean | undefined
}

/** The schemas a task declares (the shape `Task.make` stores). */
export interface TaskSchemas {
  readonly payload: Schema.Codec<any, any>
  readonly success: Schema.Codec<any, any>
  readonly error: Schema.Codec<any, any> | undefined
}

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((k) => (typeof k === "number" ? `[${k}]` : `[${JSON.stringify(String(k))}]`)).join("")

/** Finds the path of the first pointer chain in a schema issue: `["points"][3]["x"]`. */
const issuePath = (issue: SchemaIssue.Issue): Array<PropertyKey> => {
  switch (issue._tag) {
    case "Pointer":
      return [...issue.path, ...issuePath(issue.issue)]
    case "Composite":
    case "AnyOf": {
      const first = (issue as { readonly issues: ReadonlyArray<SchemaIssue.Issue> }).issues[0]
      return first === undefined ? [] : issuePath(first)
    }
    case "Filter":
    case "Encoding":
      return issuePath(issue.issue)
    default:
      return []
  }
}

export const toCodecIssue = (error: unknown): CodecIssue => {
  if (Schema.isSchemaError(error)) {
    return { path: formatPath(issuePath(error.issue)), message: error.message }
  }
  // a throw inside a schema's transformation reaches us wrapped ("Sync adapter can only throw schema
  // errors", the cause holding the throw as a defect): report the throw's own message
  if (error instanceof Error && Cause.isCause(error.cause)) {
    const die = error.cause.reasons.find(Cause.isDieReason)
    if (die !== undefined && die.defect instanceof Error) return { path: "", message: die.defect.message }
  }
  return { path: "", message: error instanceof Error ? error.message : String(error) }
}

const wrap = (f: (u: unknown) => Exit.Exit<unknown, unknown>) => (u: unknown): CodecResult => {
  let exit: Exit.Exit<unknown, unknown>
  try {
    exit = f(u)
  } catch (e) {
    return { ok: false, issue: toCodecIssue(e) }
  }
  if (Exit.isSuccess(exit)) return { ok: true, value: exit.value }
  const reason = exit.cause.reasons[0]
  const error = reason === undefined ? undefined : reason._tag === "Fail" ? reason.error : reason._tag === "Die" ? reason.defect : undefined
  return { ok: false, issue: toCodecIssue(error) }
}

/**
 * Whether a schema's encoded form is its type (no transformation anywhere inside: numbers, strings,
 * plain structs and arrays of them, with or without checks). For those, the side that receives a value
 * skips decoding: the sender's encode already validated it (checks included), and structured clone
 * delivers exactly what was validated. This halves the codec work on the hot path.
 */
export const isIdentity = (schema: Schema.Top): boolean => SchemaAST.toEncoded(schema.ast) === schema.ast

const pass = (u: unknown): CodecResult => ({ ok: true, value: u })

/**
 * A test that a value is valid for a primitive schema and encodes to itself, written without the schema
 * parser: `Schema.Number` is `typeof u === "number"` (it accepts NaN and the infinities, as the parser
 * does). Only for schemas with no checks and no encoding, and unions of such; anything else gets
 * `undefined` and always goes through the parser. The encoder costs ~15–30 ns and an allocation or two per
 * value; this test a few nanoseconds, which matters for `map` over 100,000 tiny items.
 */
export const encodesAsItself = (ast: SchemaAST.AST): ((u: unknown) => boolean) | undefined => {
  if (ast.checks !== undefined || ast.encoding !== undefined) return undefined
  switch (ast._tag) {
    case "Number":
      return (u) => typeof u === "number"
    case "String":
      return (u) => typeof u === "string"
    case "Boolean":
      return (u) => typeof u === "boolean"
    case "BigInt":
      return (u) => typeof u === "bigint"
    case "Null":
      return (u) => u === null
    case "Undefined":
      return (u) => u === undefined
    case "Literal": {
      // Object.is: never says yes where the parser could say no (0 and -0)
      const literal = ast.literal
      return (u) => Object.is(u, literal)
    }
    case "Union": {
      // "oneOf" fails a value that matches two members: only the parser can say so
      if (ast.options?.mode === "oneOf" || ast.encodingChecks !== undefined) return undefined
      const members: Array<(u: unknown) => boolean> = []
      for (const t of ast.types) {
        const f = encodesAsItself(t)
        if (f === undefined) return undefined
        members.push(f)
      }
      return (u) => {
        for (const f of members) if (f(u)) return true
        return false
      }
    }
    default:
      return undefined
  }
}

/** What a shortcut's `encode` or `decode` returns when only the parser can say (a value it does not know). */
export const askParser: unique symbol = Symbol.for("effect-parallel/askParser")

/**
 * A codec written by hand for one schema, carried on its AST as the annotation `shortcutAnnotation`: the
 * shared objects' handle schemas have one (`shared/object.ts`), so a payload that holds a `SharedArray`
 * needs no parser walk on either side. Each function returns exactly what the parser would for the values
 * it accepts, and `askParser` for anything else (the parser then decides, and names what was wrong).
 */
export interface Shortcut {
  readonly encode: (u: unknown) => unknown
  readonly decode: (u: unknown) => unknown
}

export const shortcutAnnotation = "~effect-parallel/codecShortcut"

/**
 * The shortcut of a schema, where one can be built: a schema annotated with one (and no checks), a
 * primitive schema (`encodesAsItself`), or a struct of required fields that all have one (no checks, no
 * encoding, no index signatures: `Schema.Struct({ data: SharedArray.schema, from: Schema.Number })`).
 * A struct's shortcut builds a fresh object of its declared fields, as the parser does (it strips the
 * others), and asks the parser about an input that is not a plain record of own fields.
 */
export const shortcutOf = (ast: SchemaAST.AST): Shortcut | undefined => {
  if (ast.checks !== undefined) return undefined
  const annotated = ast.annotations?.[shortcutAnnotation] as Shortcut | undefined
  if (annotated !== undefined) return annotated
  if (ast.encoding !== undefined) return undefined
  const primitive = encodesAsItself(ast)
  if (primitive !== undefined) {
    const same = (u: unknown): unknown => (primitive(u) ? u : askParser)
    return { encode: same, decode: same }
  }
  if (ast._tag !== "Objects" || ast.indexSignatures.length > 0 || ast.encodingChecks !== undefined) return undefined
  const names: Array<PropertyKey> = []
  const fields: Array<Shortcut> = []
  for (const p of ast.propertySignatures) {
    // a record's "__proto__" would set the prototype: the parser's business
    if (p.name === "__proto__") return undefined
    const field = SchemaAST.isOptional(p.type) ? undefined : shortcutOf(p.type)
    if (field === undefined) return undefined
    names.push(p.name)
    fields.push(field)
  }
  const n = names.length
  const struct = (direction: "encode" | "decode") => (u: unknown): unknown => {
    if (typeof u !== "object" || u === null || Array.isArray(u)) return askParser
    const out: Record<PropertyKey, unknown> = {}
    for (let i = 0; i < n; i++) {
      const name = names[i]!
      if (!Object.hasOwn(u, name)) return askParser
      const v = fields[i]![direction]((u as Record<PropertyKey, unknown>)[name])
      if (v === askParser) return askParser
      out[name] = v
    }
    return out
  }
  return { encode: struct("encode"), decode: struct("decode") }
}

/** The parser behind `shortcut`: it runs only for the values the shortcut does not know. */
const withShortcut = (
  shortcut: ((u: unknown) => unknown) | undefined,
  parser: (u: unknown) => CodecResult
): (u: unknown) => CodecResult =>
  shortcut === undefined ? parser : (u) => {
    const v = shortcut(u)
    return v === askParser ? parser(u) : { ok: true, value: v }
  }

/** `Schema.Number` with no checks and no encoding: its values are exactly the doubles a Float64Array holds. */
const isPlainNumber = (ast: SchemaAST.AST): boolean =>
  ast._tag === "Number" && ast.checks === undefined && ast.encoding === undefined

const noError: CodecResult = { ok: false, issue: { path: "", message: "the task declares no error schema" } }

export const makeCodec = (schemas: TaskSchemas): TaskCodec => {
  const e = schemas.error
  const payloadAsIs = isIdentity(schemas.payload)
  const successAsIs = isIdentity(schemas.success)
  // a single task's payload and result go through these once per call: where a shortcut knows the value,
  // no parser runs (the parser walk of a struct holding a SharedArray cost ~0.1 ms per call with cold caches)
  const payload = shortcutOf(schemas.payload.ast)
  const success = shortcutOf(schemas.success.ast)
  return {
    payloadIsEncoded: encodesAsItself(schemas.payload.ast),
    successIsEncoded: encodesAsItself(schemas.success.ast),
    payloadAsIs,
    successAsIs,
    successIsNumber: isPlainNumber(schemas.success.ast),
    encodePayload: withShortcut(payload?.encode, wrap(Schema.encodeUnknownExit(schemas.payload))),
    decodePayload: payloadAsIs ? pass : withShortcut(payload?.decode, wrap(Schema.decodeUnknownExit(schemas.payload))),
    encodeSuccess: withShortcut(success?.encode, wrap(Schema.encodeUnknownExit(schemas.success))),
    decodeSuccess: successAsIs ? pass : withShortcut(success?.decode, wrap(Schema.decodeUnknownExit(schemas.success))),
    encodeError: e === undefined ? () => noError : wrap(Schema.encodeUnknownExit(e)),
    decodeError: e === undefined ? () => noError : wrap(Schema.decodeUnknownExit(e))
  }
}

const cache = new WeakMap<object, TaskCodec>()

/** The task's codec, built on first use. */
export const codecOf = (task: TaskSchemas): TaskCodec => {
  let codec = cache.get(task)
  if (codec === undefined) {
    codec = makeCodec(task)
    cache.set(task, codec)
  }
  return codec
}
