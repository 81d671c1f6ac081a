fn main() {
    let p = std::env::args().nth(1).unwrap();
    let src = std::fs::read_to_string(&p).unwrap();
    match leadscore_domain::Model::from_toml(&src, &p) {
        Ok(m) => println!("ok {} fit={} act={}", m.name, m.fit_rules.len(), m.activity_rules.len()),
        Err(e) => println!("{e}"),
    }
}
