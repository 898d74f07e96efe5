fn main() -> std::process::ExitCode {
    sgd_regimes::cli::main()
}
