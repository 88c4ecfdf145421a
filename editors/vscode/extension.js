// The VS Code side of `palisade lsp` (docs/editors.md): starts the language
// server for `.sec` files. The grammar and language configuration work
// without it; this needs `npm install` in this directory first.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate() {
  const command = vscode.workspace.getConfiguration("palisade").get("path") || "palisade";
  client = new LanguageClient(
    "palisade",
    "Palisade",
    { command, args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "palisade" }] }
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
