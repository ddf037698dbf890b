round {
  max_uploads = 0
}
