-- Schema 13: the provider's RFC 8707 resources and its audience, fields of their own (an
-- audience or resource kept among the extra parameters moves there), and the endpoints as
-- discovery last gave them, which tell a discovered endpoint from one set by hand.
ALTER TABLE providers ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';  -- JSON array of URIs
ALTER TABLE providers ADD COLUMN audience TEXT;
ALTER TABLE providers ADD COLUMN discovered TEXT NOT NULL DEFAULT '{}'; -- JSON: field -> URL
UPDATE providers
   SET audience = json_extract(extra_params, '$.audience'),
       extra_params = json_remove(extra_params, '$.audience')
 WHERE json_type(extra_params, '$.audience') = 'text';
UPDATE providers
   SET resources = json_array(json_extract(extra_params, '$.resource')),
       extra_params = json_remove(extra_params, '$.resource')
 WHERE json_type(extra_params, '$.resource') = 'text';
