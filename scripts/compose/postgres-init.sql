-- docker-compose.yml: run by the postgres image on its first start (an empty volume).
-- The treasury side's database (the IFMS adapter's tables); `digit` is POSTGRES_DB.
CREATE DATABASE digit_ifms;
