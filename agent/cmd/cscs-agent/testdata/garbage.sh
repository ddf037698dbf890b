#!/bin/sh
echo "<html>not json</html>"
