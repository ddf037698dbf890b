group "edge" {
  ips        = ["10.0.9.0/24"]
  down_after = -1
}

group "core" {
  down_after = 2.5
}

group "slow" {
  down_after = "many"
}
