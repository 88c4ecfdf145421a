//! `palisade lsp`: a language server on standard input and output
//! (docs/editors.md). It answers from the compiler itself: diagnostics are
//! exactly those of `palisade check` (compile, then [`crate::check`]),
//! names are found in the syntax trees ([`index`]; rename), hovers read the
//! access view ([`crate::view::access_view`]), formatting is `palisade
//! fmt`'s ([`crate::syntax::format`]), completion asks the resolver what
//! is valid ([`complete`]) and quick fixes apply the diagnostics'
//! suggestions or accept a finding ([`actions`]).
//!
//! **Which files form the model.** `palisade check` is given a file or a
//! directory; an editor only opens files. A file's model is its directory
//! (every `.sec` file directly in it, as `check DIR` reads them) when at
//! most one of those files declares a `system`; otherwise (a directory of
//! separate models, like `examples/`) it is the file alone. Open documents
//! are read from the editor, the others from disk.

mod actions;
pub mod complete;
pub mod index;
pub mod position;
mod rename;

use crate::access_graph::GNode;
use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::source::{SourceFile, SourceMap};
use crate::span::{FileId, Span};
use crate::syntax::ast;
use index::{Index, Occurrence, Space};
use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types as lsp;
pub use position::{offset_to_position, path_uri, position_to_offset, span_range, uri_path};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Runs the server until the client says `exit`.
pub fn run() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    serve(&connection)?;
    drop(connection);
    io_threads.join().map_err(|e| e.to_string())
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(lsp::PositionEncodingKind::UTF16),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::FULL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some([":", ">", "[", ",", "{", "="].map(String::from).to_vec()),
            ..Default::default()
        }),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

/// The protocol loop on a connection (the tests drive the binary over
/// stdio; this is also what `run` calls).
pub fn serve(connection: &Connection) -> Result<(), String> {
    let caps = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    let init = serde_json::json!({
        "capabilities": caps,
        "serverInfo": { "name": "palisade", "version": env!("CARGO_PKG_VERSION") },
    });
    let (id, _params) = connection.initialize_start().map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, init)
        .map_err(|e| e.to_string())?;
    let mut server = Server::default();
    let mut pending: Option<Message> = None;
    loop {
        let msg = match pending.take() {
            Some(m) => m,
            None => match connection.receiver.recv() {
                Ok(m) => m,
                Err(_) => return Ok(()),
            },
        };
        match msg {
            Message::Request(req) => {
                if connection
                    .handle_shutdown(&req)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(());
                }
                let id = req.id.clone();
                // A bug in the compiler must not take the editor's server
                // down: the request fails, the panic is on stderr.
                let resp =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.request(req)))
                        .unwrap_or_else(|_| {
                            server.forget();
                            Response::new_err(
                                id,
                                lsp_server::ErrorCode::InternalError as i32,
                                "palisade lsp panicked on this request (see its stderr)".into(),
                            )
                        });
                send(connection, Message::Response(resp))?;
            }
            Message::Notification(note) => {
                // Edits that are already waiting are applied first, and
                // each model is checked once for all of them: typing does
                // not queue a check per keystroke.
                let mut changed = Vec::new();
                changed.extend(server.apply(note));
                while let Ok(next) = connection.receiver.try_recv() {
                    match next {
                        Message::Notification(n) => changed.extend(server.apply(n)),
                        other => {
                            pending = Some(other);
                            break;
                        }
                    }
                }
                let mut done: Vec<PathBuf> = Vec::new();
                for path in changed {
                    if done.contains(&path) {
                        continue;
                    }
                    done.push(path.clone());
                    let outs = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        server.publish(&path)
                    }))
                    .unwrap_or_else(|_| {
                        server.forget();
                        Vec::new()
                    });
                    for out in outs {
                        send(connection, Message::Notification(out))?;
                    }
                }
            }
            Message::Response(_) => {}
        }
    }
}

fn send(connection: &Connection, msg: Message) -> Result<(), String> {
    connection.sender.send(msg).map_err(|e| e.to_string())
}

/// A checked model with its syntax trees and name index.
struct Analysis {
    checked: crate::Checked,
    index: Index,
    /// The files' syntax trees and syntax errors, in file order: given
    /// back to [`Server::parsed`] when the analysis is dropped.
    trees: Vec<(FileId, ast::File)>,
    syntax_errors: Vec<Vec<Diagnostic>>,
}

/// A file's syntax tree as last parsed, reused while its text and its
/// place in the model (its [`FileId`]) stay the same: an edit of one file
/// of a directory parses that file only.
struct Parsed {
    id: FileId,
    text: String,
    tree: ast::File,
    errors: Vec<Diagnostic>,
}

impl Analysis {
    fn sources(&self) -> &SourceMap {
        &self.checked.comp.sources
    }

    fn file_of(&self, path: &Path) -> Option<FileId> {
        (self.sources().files())
            .find(|(_, f)| f.path == path)
            .map(|(id, _)| id)
    }
}

#[derive(Default)]
struct Server {
    /// Open documents: their text as the editor has it.
    docs: HashMap<PathBuf, String>,
    /// The last analysis of each model (its files), dropped on any edit.
    cache: HashMap<Vec<PathBuf>, Rc<Analysis>>,
    /// The files of each file's model ([`Server::model_files`]), dropped
    /// on any edit.
    models: HashMap<PathBuf, Vec<PathBuf>>,
    /// Files that were last sent diagnostics, per model: cleared when they
    /// have none any more.
    published: HashMap<Vec<PathBuf>, BTreeSet<PathBuf>>,
    /// Syntax trees of files not in a current analysis.
    parsed: HashMap<PathBuf, Parsed>,
}

impl Server {
    fn text(&self, path: &Path) -> Option<String> {
        match self.docs.get(path) {
            Some(t) => Some(t.clone()),
            None => std::fs::read_to_string(path).ok(),
        }
    }

    /// The files of `path`'s model (see the module's documentation).
    fn model_files(&mut self, path: &Path) -> Vec<PathBuf> {
        if let Some(files) = self.models.get(path) {
            return files.clone();
        }
        let files = self.find_model_files(path);
        self.models.insert(path.to_path_buf(), files.clone());
        files
    }

    fn find_model_files(&mut self, path: &Path) -> Vec<PathBuf> {
        let Some(dir) = path.parent() else {
            return vec![path.to_path_buf()];
        };
        let mut files: BTreeSet<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "sec") && p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        // Unsaved new files of the directory count too.
        files.extend(
            (self.docs.keys())
                .filter(|p| p.parent() == Some(dir) && p.extension().is_some_and(|x| x == "sec"))
                .cloned(),
        );
        files.insert(path.to_path_buf());
        let mut systems = 0;
        for (i, p) in files.iter().enumerate() {
            if let Some(parsed) = self.parse(p, FileId(i as u32)) {
                systems += usize::from(
                    (parsed.tree.items.iter()).any(|i| matches!(i, ast::Item::System(_))),
                );
            }
        }
        if systems <= 1 {
            files.into_iter().collect()
        } else {
            vec![path.to_path_buf()]
        }
    }

    fn analyse(&mut self, path: &Path) -> Rc<Analysis> {
        let files = self.model_files(path);
        if let Some(a) = self.cache.get(&files) {
            return a.clone();
        }
        let mut sources = SourceMap::new();
        let mut trees = Vec::new();
        let mut syntax_errors = Vec::new();
        let mut diags = Diagnostics::new();
        for (i, f) in files.iter().enumerate() {
            let id = FileId(i as u32);
            self.parse(f, id);
            let Parsed {
                text, tree, errors, ..
            } = self.parsed.remove(f).unwrap_or_else(|| Parsed {
                id,
                text: String::new(),
                tree: ast::File::default(),
                errors: Vec::new(),
            });
            sources.add(SourceFile::new(f.display().to_string(), f.clone(), text));
            for e in &errors {
                diags.push(e.clone());
            }
            trees.push((id, tree));
            syntax_errors.push(errors);
        }
        let index = Index::new(&trees);
        let checked = crate::check(crate::compile_parsed(sources, &trees, diags));
        let a = Rc::new(Analysis {
            checked,
            index,
            trees,
            syntax_errors,
        });
        self.cache.insert(files, a.clone());
        a
    }

    /// `path`'s syntax tree as file `id` of its model, parsed again only if
    /// its text or its id changed; `None` when it cannot be read.
    fn parse(&mut self, path: &Path, id: FileId) -> Option<&Parsed> {
        let text = self.text(path)?;
        let fresh = self
            .parsed
            .get(path)
            .is_some_and(|p| p.id == id && p.text == text);
        if !fresh {
            let mut d = Diagnostics::new();
            let tree = crate::syntax::parse_file(id, &text, &mut d);
            let errors = d.into_vec();
            self.parsed.insert(
                path.to_path_buf(),
                Parsed {
                    id,
                    text,
                    tree,
                    errors,
                },
            );
        }
        self.parsed.get(path)
    }

    /// Applies a document notification; the file whose model changed.
    fn apply(&mut self, note: Notification) -> Option<PathBuf> {
        use lsp::notification::{
            DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
            Notification as _,
        };
        let path = match note.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) =
                    note.extract::<lsp::DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD)
                else {
                    return None;
                };
                let path = uri_path(&p.text_document.uri)?;
                self.docs.insert(path.clone(), p.text_document.text);
                path
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) =
                    note.extract::<lsp::DidChangeTextDocumentParams>(DidChangeTextDocument::METHOD)
                else {
                    return None;
                };
                let path = uri_path(&p.text_document.uri)?;
                // Full synchronisation: the last change holds the whole text.
                if let Some(c) = p.content_changes.into_iter().last() {
                    self.docs.insert(path.clone(), c.text);
                }
                path
            }
            DidSaveTextDocument::METHOD => {
                let Ok(p) =
                    note.extract::<lsp::DidSaveTextDocumentParams>(DidSaveTextDocument::METHOD)
                else {
                    return None;
                };
                uri_path(&p.text_document.uri)?
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) =
                    note.extract::<lsp::DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
                else {
                    return None;
                };
                let path = uri_path(&p.text_document.uri)?;
                self.docs.remove(&path);
                path
            }
            _ => return None,
        };
        self.forget();
        Some(path)
    }

    /// Drops what was computed from the texts (after an edit, or a panic),
    /// keeping the syntax trees ([`Server::parse`] decides whether they
    /// are still those of the texts).
    fn forget(&mut self) {
        self.models.clear();
        let mut old = Vec::new();
        for (_, a) in self.cache.drain() {
            let Ok(a) = Rc::try_unwrap(a) else { continue };
            let Analysis {
                checked,
                trees,
                syntax_errors,
                ..
            } = a;
            for ((id, tree), errors) in trees.into_iter().zip(syntax_errors) {
                let file = checked.comp.sources.get(id);
                self.parsed.insert(
                    file.path.clone(),
                    Parsed {
                        id,
                        text: file.text.clone(),
                        tree,
                        errors,
                    },
                );
            }
            old.push(checked);
        }
        // Freeing a large model's graphs and objects is not on the next
        // answer's time.
        if !old.is_empty() {
            std::thread::spawn(move || drop(old));
        }
    }

    /// `textDocument/publishDiagnostics` for every file of `path`'s model:
    /// exactly `palisade check`'s diagnostics, each at its primary span.
    fn publish(&mut self, path: &Path) -> Vec<Notification> {
        let a = self.analyse(path);
        let files = self.model_files(path);
        let sources = a.sources();
        let mut by_file: HashMap<FileId, Vec<lsp::Diagnostic>> =
            sources.files().map(|(id, _)| (id, Vec::new())).collect();
        for d in a.checked.comp.diagnostics.iter() {
            by_file
                .entry(d.primary.span.file)
                .or_default()
                .push(to_lsp_diagnostic(sources, d));
        }
        let mut out = Vec::new();
        let mut now = BTreeSet::new();
        let mut ids: Vec<FileId> = by_file.keys().copied().collect();
        ids.sort();
        for id in ids {
            let file = sources.get(id);
            now.insert(file.path.clone());
            out.push(diagnostics_note(
                &file.path,
                by_file.remove(&id).unwrap_or_default(),
            ));
        }
        let before = self
            .published
            .insert(files, now.clone())
            .unwrap_or_default();
        for gone in before.difference(&now) {
            out.push(diagnostics_note(gone, Vec::new()));
        }
        out
    }

    fn request(&mut self, req: Request) -> Response {
        use lsp::request::{
            CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition,
            HoverRequest, PrepareRenameRequest, References, Rename, Request as _,
        };
        let id = req.id.clone();
        let result = match req.method.as_str() {
            GotoDefinition::METHOD => self.params(&req).map(|p: lsp::GotoDefinitionParams| {
                to_json(self.definition(&p.text_document_position_params))
            }),
            References::METHOD => self
                .params(&req)
                .map(|p: lsp::ReferenceParams| to_json(self.references(&p))),
            HoverRequest::METHOD => self
                .params(&req)
                .map(|p: lsp::HoverParams| to_json(self.hover(&p.text_document_position_params))),
            DocumentSymbolRequest::METHOD => self
                .params(&req)
                .map(|p: lsp::DocumentSymbolParams| to_json(self.symbols(&p.text_document.uri))),
            Formatting::METHOD => self
                .params(&req)
                .map(|p: lsp::DocumentFormattingParams| to_json(self.format(&p.text_document.uri))),
            Completion::METHOD => self.params(&req).map(|p: lsp::CompletionParams| {
                to_json(self.completion(&p.text_document_position))
            }),
            CodeActionRequest::METHOD => self
                .params(&req)
                .map(|p: lsp::CodeActionParams| to_json(self.code_actions(&p))),
            PrepareRenameRequest::METHOD => {
                match self
                    .params(&req)
                    .map(|p: lsp::TextDocumentPositionParams| self.prepare_rename(&p))
                {
                    Ok(Err(refusal)) => return refuse(id, refusal),
                    other => other.map(|r| to_json(r.ok())),
                }
            }
            Rename::METHOD => match self
                .params(&req)
                .map(|p: lsp::RenameParams| self.rename(&p))
            {
                Ok(Err(refusal)) => return refuse(id, refusal),
                other => other.map(|r| to_json(r.ok())),
            },
            _ => {
                return Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("palisade lsp does not handle {}", req.method),
                )
            }
        };
        match result {
            Ok(v) => Response::new_ok(id, v),
            Err(e) => Response::new_err(id, lsp_server::ErrorCode::InvalidParams as i32, e),
        }
    }

    fn params<P: serde::de::DeserializeOwned>(&self, req: &Request) -> Result<P, String> {
        serde_json::from_value(req.params.clone()).map_err(|e| e.to_string())
    }

    /// The analysis of a position's model, the file, and the name there.
    fn at(
        &mut self,
        pos: &lsp::TextDocumentPositionParams,
    ) -> Option<(Rc<Analysis>, FileId, Occurrence)> {
        let path = uri_path(&pos.text_document.uri)?;
        let a = self.analyse(&path);
        let file = a.file_of(&path)?;
        let offset = position_to_offset(a.sources().get(file), pos.position);
        let occ = a.index.at(file, offset as u32)?.clone();
        Some((a, file, occ))
    }

    fn definition(
        &mut self,
        pos: &lsp::TextDocumentPositionParams,
    ) -> Option<lsp::GotoDefinitionResponse> {
        let (a, _, occ) = self.at(pos)?;
        let locations: Vec<lsp::Location> =
            (a.index.declarations(occ.space, &occ.name).into_iter())
                .filter_map(|d| location(a.sources(), d.span))
                .collect();
        (!locations.is_empty()).then_some(lsp::GotoDefinitionResponse::Array(locations))
    }

    fn references(&mut self, p: &lsp::ReferenceParams) -> Option<Vec<lsp::Location>> {
        let (a, _, occ) = self.at(&p.text_document_position)?;
        let with_decl = p.context.include_declaration;
        Some(
            (a.index.all(occ.space, &occ.name).into_iter())
                .filter(|o| with_decl || o.decl.is_none())
                .filter_map(|o| location(a.sources(), o.span))
                .collect(),
        )
    }

    fn hover(&mut self, pos: &lsp::TextDocumentPositionParams) -> Option<lsp::Hover> {
        let (a, file, occ) = self.at(pos)?;
        let text = hover_text(&a, &occ)?;
        let range = span_range(a.sources().get(file), occ.span);
        Some(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: text,
            }),
            range: Some(range),
        })
    }

    fn symbols(&mut self, uri: &lsp::Uri) -> Option<lsp::DocumentSymbolResponse> {
        let path = uri_path(uri)?;
        let a = self.analyse(&path);
        let file = a.file_of(&path)?;
        let text = a.sources().get(file);
        #[allow(deprecated)] // `deprecated` is a required field of the type
        let symbols = (a.index.declarations_in(file))
            .map(|o| {
                let (keyword, item) = o.decl.expect("a declaration");
                lsp::DocumentSymbol {
                    name: o.name.clone(),
                    detail: Some(keyword.to_string()),
                    kind: symbol_kind(keyword),
                    tags: None,
                    deprecated: None,
                    range: span_range(text, item),
                    selection_range: span_range(text, o.span),
                    children: None,
                }
            })
            .collect();
        Some(lsp::DocumentSymbolResponse::Nested(symbols))
    }

    fn completion(
        &mut self,
        pos: &lsp::TextDocumentPositionParams,
    ) -> Option<lsp::CompletionResponse> {
        let path = uri_path(&pos.text_document.uri)?;
        let a = self.analyse(&path);
        let file = a.sources().get(a.file_of(&path)?);
        let offset = position_to_offset(file, pos.position);
        let start = complete::word_start(&file.text, offset);
        let range = lsp::Range::new(offset_to_position(file, start), pos.position);
        let items = complete::complete(a.checked.model(), &file.text, offset)
            .into_iter()
            .map(|(label, mut item)| {
                item.text_edit = Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
                    range,
                    new_text: label,
                }));
                item
            })
            .collect();
        Some(lsp::CompletionResponse::Array(items))
    }

    fn code_actions(&mut self, p: &lsp::CodeActionParams) -> Option<Vec<lsp::CodeAction>> {
        let path = uri_path(&p.text_document.uri)?;
        let a = self.analyse(&path);
        let id = a.file_of(&path)?;
        let file = a.sources().get(id);
        let range = (
            position_to_offset(file, p.range.start) as u32,
            position_to_offset(file, p.range.end) as u32,
        );
        Some(actions::actions(&a, id, range))
    }

    fn prepare_rename(
        &mut self,
        pos: &lsp::TextDocumentPositionParams,
    ) -> Result<lsp::PrepareRenameResponse, String> {
        let (a, file, occ) = self.at(pos).ok_or("no name to rename here")?;
        rename::check_renamable(&a, &occ)?;
        Ok(lsp::PrepareRenameResponse::RangeWithPlaceholder {
            range: rename::range(&a, file, &occ),
            placeholder: occ.name.clone(),
        })
    }

    #[expect(
        clippy::mutable_key_type,
        reason = "lsp-types keys a WorkspaceEdit's changes by Uri; the keys are never mutated"
    )]
    fn rename(&mut self, p: &lsp::RenameParams) -> Result<lsp::WorkspaceEdit, String> {
        let (a, _, occ) = self
            .at(&p.text_document_position)
            .ok_or("no name to rename here")?;
        let changes = rename::rename(&a, &occ, &p.new_name)?;
        Ok(lsp::WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        })
    }

    /// `palisade fmt`'s layout as one edit of the whole document; none when
    /// it is already canonical or does not parse (its errors are in the
    /// diagnostics).
    fn format(&mut self, uri: &lsp::Uri) -> Option<Vec<lsp::TextEdit>> {
        let path = uri_path(uri)?;
        let text = self.text(&path)?;
        let mut diags = crate::diagnostics::Diagnostics::new();
        let formatted = crate::syntax::format::format(FileId(0), &text, &mut diags).ok()?;
        if formatted == text {
            return Some(Vec::new());
        }
        let len = text.len();
        let end = offset_to_position(&SourceFile::new("", path, text), len);
        Some(vec![lsp::TextEdit {
            range: lsp::Range::new(lsp::Position::new(0, 0), end),
            new_text: formatted,
        }])
    }
}

fn symbol_kind(keyword: &str) -> lsp::SymbolKind {
    match keyword {
        "system" => lsp::SymbolKind::MODULE,
        "namespace" => lsp::SymbolKind::NAMESPACE,
        "environment" => lsp::SymbolKind::ENUM_MEMBER,
        "persona" => lsp::SymbolKind::INTERFACE,
        "app" => lsp::SymbolKind::CLASS,
        "pod" => lsp::SymbolKind::PACKAGE,
        "store" => lsp::SymbolKind::STRUCT,
        "external" => lsp::SymbolKind::OBJECT,
        _ => lsp::SymbolKind::VARIABLE,
    }
}

/// The hover of a name: its declaration's first line and, for a party of
/// the access graph, who reaches it and what it reaches in each
/// environment (effective access, as `palisade query` answers).
fn hover_text(a: &Analysis, occ: &Occurrence) -> Option<String> {
    let model = a.checked.model();
    let mut out = String::new();
    let decls = a.index.declarations(occ.space, &occ.name);
    for d in &decls {
        let (_, item) = d.decl?;
        let text = &a.sources().get(item.file).text;
        let first = text[item.start as usize..item.end as usize]
            .lines()
            .next()
            .unwrap_or_default()
            .trim_end();
        out.push_str(&format!("```sec\n{first}\n```\n"));
    }
    if occ.space == Space::Lint {
        let lint = crate::lints::find(&occ.name)?;
        return Some(format!(
            "lint `{}` (default: {})\n\n{}\n\n`palisade explain {}` tells more.\n",
            lint.name,
            lint.default.as_str(),
            lint.summary,
            lint.name
        ));
    }
    if occ.space == Space::Namespace && !decls.is_empty() {
        let apps: Vec<String> = (model.apps.iter())
            .filter(|a| model.namespace(a.namespace).name == occ.name)
            .map(|a| format!("`{}`", a.name))
            .collect();
        let stores: Vec<String> = (model.stores.iter())
            .filter(|s| {
                matches!(s.location, crate::model::StoreLocation::InCluster(ns)
                    if model.namespace(ns).name == occ.name)
            })
            .map(|s| format!("`{}`", s.name))
            .collect();
        for (what, names) in [("apps", apps), ("stores", stores)] {
            if !names.is_empty() {
                out.push_str(&format!("\n{what}: {}\n", names.join(", ")));
            }
        }
    }
    let entity = match occ.space {
        Space::Entity => model.lookup(&occ.name),
        _ => None,
    };
    if decls.is_empty() && entity.is_none() {
        return None;
    }
    let Some(entity) = entity else {
        return Some(out);
    };
    let node = GNode::E(entity);
    if matches!(
        entity,
        crate::model::Entity::Internet | crate::model::Entity::Kube
    ) {
        out.push_str(&format!("built-in `{}`\n", occ.name));
    }
    let view = crate::view::access_view(&a.checked);
    if view.envs.is_empty() {
        out.push_str("\n*(no effective access: the model has errors)*\n");
        return Some(out);
    }
    for env in &view.envs {
        let env_name = env
            .env
            .map(|e| format!(" in `{}`", model.environments[e.index()].name));
        // One line per party, its accesses in graph order.
        let lines = |edges: Vec<(GNode, &crate::view::AccessEdge)>| {
            let mut parties: Vec<(GNode, Vec<String>)> = Vec::new();
            for (other, e) in edges {
                let wider = if e.is_widened() {
                    " (wider than declared)"
                } else {
                    ""
                };
                let text = format!("{}{wider}", view.access_text(model, e));
                match parties.iter_mut().find(|(n, _)| *n == other) {
                    Some((_, texts)) => texts.push(text),
                    None => parties.push((other, vec![text])),
                }
            }
            (parties.into_iter())
                .map(|(n, texts)| format!("- `{}`: {}\n", view.name(model, n), texts.join(", ")))
                .collect::<Vec<String>>()
        };
        let reached = lines(
            (env.edges.iter())
                .filter(|e| e.to == node && e.from != node)
                .map(|e| (e.from, e))
                .collect(),
        );
        let reaches = lines(
            (env.edges.iter())
                .filter(|e| e.from == node)
                .map(|e| (e.to, e))
                .collect(),
        );
        let env_name = env_name.unwrap_or_default();
        out.push_str(&format!("\n**Reached by**{env_name}:"));
        push_list(&mut out, &reached);
        out.push_str(&format!("\n**Reaches**{env_name}:"));
        push_list(&mut out, &reaches);
    }
    Some(out)
}

fn push_list(out: &mut String, lines: &[String]) {
    const MAX: usize = 40;
    if lines.is_empty() {
        out.push_str(" nothing\n");
        return;
    }
    out.push('\n');
    for l in lines.iter().take(MAX) {
        out.push_str(l);
    }
    if lines.len() > MAX {
        out.push_str(&format!("- … and {} more\n", lines.len() - MAX));
    }
}

/// A request refused with a reason the editor shows (a rename to a name
/// that is taken, say).
fn refuse(id: lsp_server::RequestId, reason: String) -> Response {
    Response::new_err(id, lsp_server::ErrorCode::RequestFailed as i32, reason)
}

fn to_json<T: serde::Serialize>(v: T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn diagnostics_note(path: &Path, diagnostics: Vec<lsp::Diagnostic>) -> Notification {
    use lsp::notification::{Notification as _, PublishDiagnostics};
    Notification::new(
        PublishDiagnostics::METHOD.to_string(),
        lsp::PublishDiagnosticsParams {
            uri: path_uri(path),
            diagnostics,
            version: None,
        },
    )
}

/// One of the compiler's diagnostics in LSP terms: the primary span is the
/// range, the notes follow the message, and the primary label, the
/// secondary labels (possibly in other files) and the help are related
/// information.
fn to_lsp_diagnostic(sources: &SourceMap, d: &crate::diagnostics::Diagnostic) -> lsp::Diagnostic {
    let file = sources.get(d.primary.span.file);
    let range = span_range(file, d.primary.span);
    let mut message = d.message.clone();
    for n in &d.notes {
        message.push_str("\nnote: ");
        message.push_str(n);
    }
    let mut related = Vec::new();
    let mut relate = |span: Span, text: String| {
        if let Some(location) = location(sources, span) {
            related.push(lsp::DiagnosticRelatedInformation {
                location,
                message: text,
            });
        }
    };
    if !d.primary.message.is_empty() {
        relate(d.primary.span, d.primary.message.clone());
    }
    for l in &d.secondary {
        relate(l.span, l.message.clone());
    }
    if let Some(h) = &d.help {
        relate(d.primary.span, format!("help: {h}"));
    }
    lsp::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
            Severity::Note => lsp::DiagnosticSeverity::INFORMATION,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
        source: Some("palisade".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

fn location(sources: &SourceMap, span: Span) -> Option<lsp::Location> {
    if span.file.0 as usize >= sources.len() {
        return None;
    }
    let file = sources.get(span.file);
    Some(lsp::Location::new(
        path_uri(&file.path),
        span_range(file, span),
    ))
}
