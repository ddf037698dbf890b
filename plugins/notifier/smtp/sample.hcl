# A second mail sender beside email_config.json's: critical alerts of
# the databases also go to the DBA team's relay. A route sends them there.
variable "dba_smtp_password" {
  sensitive = true
  default   = ""
}

notifier "smtp" "dba" {
  host     = "relay.dba.example.com"
  port     = 587
  security = "starttls"
  username = "cscs"
  password = var.dba_smtp_password
  from     = "CSCS <cscs@example.com>"
  timeout  = "15s"
}

group "databases" {
  names = ["db-*"]
}

route {
  severity  = ["critical"]
  groups    = ["databases"]
  notifiers = ["email", "dba"]
}
