//! The `palisade` binary: parse the command line, run, exit.

fn main() -> std::process::ExitCode {
    palisade::cli::main()
}
