round {
  concurrency = 8
