//! The `ronda` binary: command-line parsing and dispatch. Placeholder.

fn main() {
    println!("ronda");
}
