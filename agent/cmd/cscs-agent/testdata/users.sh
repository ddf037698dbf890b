#!/bin/sh
# External module of the "users" source.
echo '{"metrics":[{"name":"users.logged_in","value":3,"unit":"count"}]}'
