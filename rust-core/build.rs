//! Compiles `proto/keyhold.proto` with protox (pure Rust), so no `protoc`
//! needs to be installed on the build machine.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/keyhold.proto");
    let descriptors = protox::compile(["proto/keyhold.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
