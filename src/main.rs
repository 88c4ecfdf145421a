//! The `palisade` binary: parse the command line, run, exit.

/// mimalloc: a build allocates and frees millions of small strings and
/// maps; glibc's allocator spent a sixth of a 10,000-pod-group build in
/// malloc and free (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    palisade::cli::keep_freed_memory();
    palisade::cli::main()
}
