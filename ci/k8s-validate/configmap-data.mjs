// Print data[KEY] of the ConfigMap(s) in FILE: node configmap-data.mjs FILE KEY
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [file, key] = process.argv.slice(2);
let found = false;
for (const doc of parseAllDocuments(readFileSync(file, "utf8"), { version: "1.1" })) {
  const obj = doc.toJS();
  if (obj?.kind === "ConfigMap" && typeof obj.data?.[key] === "string") {
    process.stdout.write(obj.data[key]);
    found = true;
  }
}
if (!found) {
  console.error(`${file}: no ConfigMap with data.${key}`);
  process.exit(1);
}
