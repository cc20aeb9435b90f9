//! Compiles the core's `keyhold.proto` (the one wire contract) with protox,
//! as keyhold-client does, so the seed generator and the response checks
//! speak exactly the protocol the core decodes.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = "../rust-core/proto";
    let proto = format!("{proto_dir}/keyhold.proto");
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto.as_str()], [proto_dir])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
