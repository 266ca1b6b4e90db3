//! An in-memory S3 server for stowage's benchmark (bench/run.mjs) and S3 test suites (kind
//! `s3mem` of servers/index.mjs), fast enough not to be what the benchmark measures. Not for
//! anything else: nothing is persisted and there is one set of credentials.
//!
//! The protocol is s3s's: it routes and parses requests, checks SigV4 (headers, streaming
//! aws-chunked bodies and presigned URLs) and writes the XML responses. This file only stores:
//! objects are `Bytes` held in memory, read back as zero-copy slices of at most 1 MiB.
//!
//!   s3-mem-server --host 127.0.0.1 --port 9000 --access-key K --secret-key S --bucket NAME [--cors]
//!
//! `--cors` lets pages on any origin call it (see `cors.rs`). GET and HEAD apply the
//! `response-*` overrides of their query string (`response-content-disposition`, ...) as AWS
//! does; s3s parses them but leaves answering with them to the store.
//!
//! ETags are unique values (a counter mixed with the start time), not MD5s: no client in
//! bench/libs and no S3 test compares an ETag with the body, and hashing every upload would cost
//! more than the transfer itself. A multipart object's ETag has S3's `-N` suffix. Checksums sent
//! with a request (Content-MD5, x-amz-checksum-*) are not verified or stored; s3s still verifies
//! the payload SHA-256 and chunk signatures that SigV4 signs.

mod cors;
mod store;

use std::net::SocketAddr;
use std::process::ExitCode;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

struct Args {
    host: String,
    port: u16,
    access_key: Option<String>,
    secret_key: Option<String>,
    buckets: Vec<String>,
    cors: bool,
}

const USAGE: &str = "usage: s3-mem-server [--host 127.0.0.1] [--port 9000] [--access-key K --secret-key S] [--bucket NAME]... [--cors]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        host: "127.0.0.1".into(),
        port: 9000,
        access_key: None,
        secret_key: None,
        buckets: Vec::new(),
        cors: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        if flag == "--cors" {
            args.cors = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--host" => args.host = value,
            "--port" => args.port = value.parse().map_err(|_| format!("bad port {value:?}"))?,
            "--access-key" => args.access_key = Some(value),
            "--secret-key" => args.secret_key = Some(value),
            "--bucket" => args.buckets.push(value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.access_key.is_some() != args.secret_key.is_some() {
        return Err("--access-key and --secret-key go together".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("s3-mem-server: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("s3-mem-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> std::io::Result<()> {
    let store = store::MemStore::default();
    for b in &args.buckets {
        store.create_bucket_named(b);
    }

    let mut builder = S3ServiceBuilder::new(store);
    if let (Some(ak), Some(sk)) = (args.access_key, args.secret_key) {
        builder.set_auth(SimpleAuth::from_single(ak, sk));
    }
    let service = builder.build();

    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    let addr: SocketAddr = listener.local_addr()?;
    println!(
        "s3-mem-server listening on http://{addr} (buckets: {}){}",
        args.buckets.join(", "),
        if args.cors { ", CORS on" } else { "" }
    );

    let mut http = ConnBuilder::new(TokioExecutor::new());
    // larger socket reads: fewer, bigger body chunks on uploads
    http.http1().max_buf_size(4 << 20);

    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let socket = tokio::select! {
            res = listener.accept() => match res {
                Ok((socket, _)) => socket,
                Err(e) => {
                    eprintln!("s3-mem-server: accept: {e}");
                    continue;
                }
            },
            _ = ctrl_c.as_mut() => return Ok(()),
        };
        let _ = socket.set_nodelay(true);
        let io = TokioIo::new(socket);
        if args.cors {
            let conn = http
                .serve_connection(io, cors::Cors(service.clone()))
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        } else {
            let conn = http.serve_connection(io, service.clone()).into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    }
}
