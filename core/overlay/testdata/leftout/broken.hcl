plugin "users" {
  kind   = "source"
  path   = "/opt/cscs/users"
  sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
}

storage "sqlite" "local" {
  path = "/var/lib/cscs/cscs.db"
}

storage "jsonl" "archive" {
  path = "/var/lib/cscs/rounds.jsonl"
}

notifier "webhook" "chat" {
  url = "https://chat.example/hook"
}

group "web" {
  ips     = ["10.0.0.0/24"]
  sources = ["cpu", "users"]

  module "users" {
    max = 5
  }

  alert "crowded" {
    condition = users.logged_in > 10
  }

  alert "busy" {
    condition = cpu.percent > 90
  }
}
