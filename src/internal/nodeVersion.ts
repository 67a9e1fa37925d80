/**
 * Fails at import on a Node.js older than the package's `engines` (22.19), with a message that says so.
 *
 * Without it an old Node fails silently: `import.meta.main` is `undefined` before Node 22.18, so a program
 * behind the main guard (`if (import.meta.main) ...`) does nothing and exits 0.
 *
 * Every public module (the barrel, each subpath entry, the `effect-parallel` command) imports this module
 * first, for its side effect: ES modules evaluate their imports in order, so the check runs before anything
 * else of the package (or of `effect`) is evaluated. It is the one module of the package with a side effect,
 * and package.json's `"sideEffects"` lists it, so that bundlers keep it when they drop unused modules.
 * `test/nodeVersion.test.ts` checks that every entry point imports it first and runs it on an old Node.
 *
 * @internal
 */

/** The oldest Node.js the package runs on: package.json's `engines.node` (a test keeps them equal). */
export const requiredNode = "22.19"

/** Whether `version` (`"20.20.2"`, `"v24.1.0"`) is older than `required` (`"22.19"`). */
export const olderThan = (version: string, required: string): boolean => {
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number)
  const [needMajor = 0, needMinor = 0] = required.split(".").map(Number)
  return major < needMajor || (major === needMajor && minor < needMinor)
}

// Other runtimes that report a Node version (Bun, Deno) are held to the same bar; one that reports none
// is let through.
const running = typeof process === "object" ? process.versions?.node : undefined
if (typeof running === "string" && olderThan(running, requiredNode)) {
  throw new Error(
    `effect-parallel needs Node.js >= ${requiredNode}, and this is Node.js ${running}. ` +
      `(On older versions \`import.meta.main\` is undefined, so a program behind the main guard would ` +
      `silently do nothing.) Upgrade Node.js: https://nodejs.org`
  )
}
