"""Local stand-ins for the platforms: real HTTP servers on 127.0.0.1 that speak each platform's
documented wire format (paths, authentication, bodies, success and error payloads), record what
they receive, and can be told to answer the next calls with a given error. The tests and the
benchmarks use them; one module per platform, and `config` for pointing channels at them."""
