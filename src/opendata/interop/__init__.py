"""Standard doors onto the catalogue: CKAN's Action API, DCAT-AP 3, Frictionless Data
Packages and schema.org. Each module maps our models onto one standard; the access
rules (open levels, licences, masks) are the ones of catalogue/ and access/, reused."""
