# The eventlog source: built in, Windows only.
group "domain_controllers" {
  names = ["dc-*"]
  os    = ["windows"]

  module "eventlog" {
    channel      = "Security"
    first_window = "24h"
    event_ids    = [4624, 4625, 4740]
    max          = 1000
  }
}
