// Run with a Node older than effect-parallel's `engines`: imports every public entry point of the package
// and prints, for each, whether it imported or the message it failed with (one JSON line each).
const specifiers = process.argv.slice(2)
for (const specifier of specifiers) {
  try {
    await import(specifier)
    console.log(JSON.stringify({ specifier, imported: true }))
  } catch (e) {
    console.log(JSON.stringify({ specifier, imported: false, message: e instanceof Error ? e.message : String(e) }))
  }
}
