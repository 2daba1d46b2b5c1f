//! The gateway's connection pool to Bedrock: after a burst of concurrent requests, at most
//! `MAX_IDLE_CONNECTIONS_PER_HOST` connections to the emulator stay open (issue 9, item 8: 128
//! concurrent clients used to leave 407 idle sockets behind).
//!
//! The connections are counted in `/proc/net/tcp`: the gateway's client sockets whose remote
//! port is the emulator's (the test process holds both ends; the emulator's own sockets have
//! the port on the local side and are not counted).

use std::time::Duration;

use crate::support::MODEL;
use bedrock_emulator::EmulatorConfig;
use bedrock_gateway::bedrock::MAX_IDLE_CONNECTIONS_PER_HOST;
use serde_json::json;

/// Established TCP connections from this process to `port` on loopback (IPv4).
fn connections_to(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp is readable");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields
                .get(2)
                .and_then(|remote| remote.rsplit_once(':'))
                .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok());
            // 01: ESTABLISHED.
            remote_port == Some(port) && fields.get(3) == Some(&"01")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_leaves_at_most_the_idle_bound_of_connections_open() {
    // Streamed replies arrive a token every 20 ms, so each request holds its own connection
    // for a while and the burst really opens one connection per request.
    let gateway = std::sync::Arc::new(
        crate::support::start_with(
            &[],
            EmulatorConfig {
                token_delay: Duration::from_millis(20),
                ..EmulatorConfig::default()
            },
        )
        .await,
    );
    let port: u16 = gateway
        .emulator
        .url()
        .rsplit_once(':')
        .and_then(|(_, port)| port.trim_end_matches('/').parse().ok())
        .expect("the emulator URL has a port");
    let burst = 3 * MAX_IDLE_CONNECTIONS_PER_HOST;
    let text = "one two three four five six seven eight nine ten";
    let requests: Vec<_> = (0..burst)
        .map(|_| {
            let gateway = gateway.clone();
            tokio::spawn(async move {
                let body = json!({"model": MODEL, "stream": true,
                    "messages": [{"role": "user", "content": text}]});
                gateway.chat_stream(body).await
            })
        })
        .collect();
    let mut peak = 0;
    while requests.iter().any(|r| !r.is_finished()) {
        peak = peak.max(connections_to(port));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for request in requests {
        let (status, events) = request.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(crate::support::streamed_text(&events), text);
    }
    assert!(
        peak > MAX_IDLE_CONNECTIONS_PER_HOST,
        "the burst should open more connections than the pool keeps (peak {peak})"
    );

    // Connections beyond the bound are closed as their requests end (allow a moment for the
    // close to reach the socket table).
    let mut open = connections_to(port);
    for _ in 0..100 {
        if open <= MAX_IDLE_CONNECTIONS_PER_HOST {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        open = connections_to(port);
    }
    assert!(
        open <= MAX_IDLE_CONNECTIONS_PER_HOST,
        "{open} connections to Bedrock stayed open after a burst of {burst} (peak {peak})"
    );
    assert!(open > 0, "the pool keeps some connections warm");
}
