-- Neovim's built-in LSP client drives `palisade lsp` (tests/lsp.rs runs
-- this headless: `nvim --headless -u NONE -c "luafile tests/lsp/nvim.lua"`).
-- Environment: PALISADE_BIN, MODEL (a .sec file), RESULT (where the answers
-- are written, one per line, for the Rust test to judge), COMPLETE_AT and
-- RENAME_AT ("LINE:CHARACTER", 0-based), RENAME_TO.
local bin = os.getenv("PALISADE_BIN")
local model = os.getenv("MODEL")
local result = os.getenv("RESULT")
local lines = {}

local function finish(status)
  table.insert(lines, "status " .. status)
  local f = assert(io.open(result, "w"))
  f:write(table.concat(lines, "\n") .. "\n")
  f:close()
  vim.cmd("qall!")
end

local function position(spec)
  local line, character = spec:match("^(%d+):(%d+)$")
  return { line = tonumber(line), character = tonumber(character) }
end

local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(model))
  local buf = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start_client({
    name = "palisade",
    cmd = { bin, "lsp" },
    root_dir = vim.fn.fnamemodify(model, ":h"),
  })
  assert(id, "the client starts")
  assert(vim.lsp.buf_attach_client(buf, id), "the client attaches")

  -- Diagnostics, published on open.
  assert(vim.wait(30000, function()
    return #vim.diagnostic.get(buf) > 0
  end, 20), "no diagnostics within 30 s")
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local message = d.message:gsub("\n.*", "")
    table.insert(lines, string.format("diagnostic %s %d %d %s", d.code, d.lnum, d.col, message))
  end

  local uri = vim.uri_from_bufnr(buf)
  local function request(method, params)
    local answers = vim.lsp.buf_request_sync(buf, method, params, 30000)
    assert(answers and answers[id], method .. ": no answer")
    assert(not answers[id].err, method .. ": " .. vim.inspect(answers[id].err))
    return answers[id].result
  end

  -- Completion.
  local completion = request("textDocument/completion", {
    textDocument = { uri = uri },
    position = position(os.getenv("COMPLETE_AT")),
  })
  for _, item in ipairs(completion.items or completion) do
    table.insert(lines, "completion " .. item.label)
  end

  -- Rename: the edits Neovim would apply, then applied.
  local edit = request("textDocument/rename", {
    textDocument = { uri = uri },
    position = position(os.getenv("RENAME_AT")),
    newName = os.getenv("RENAME_TO"),
  })
  for file, edits in pairs(edit.changes) do
    for _, e in ipairs(edits) do
      table.insert(lines, string.format("rename %s %d %d %s", vim.uri_to_fname(file), e.range.start.line, e.range.start.character, e.newText))
    end
  end
  vim.lsp.util.apply_workspace_edit(edit, "utf-16")
  vim.cmd("write")

  vim.lsp.stop_client(id)
end)
if ok then
  finish("ok")
else
  table.insert(lines, "error " .. tostring(err))
  finish("failed")
end
