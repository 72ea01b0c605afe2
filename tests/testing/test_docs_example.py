"""Tests for the orders load script: it follows next-page links until there are none."""

import pytest

from qscript.testing import (
    assert_fields,
    assert_no_synthetic_keys,
    assert_rowcount,
    assert_table,
    assert_unique,
)

ORDERS_SCRIPT = """
LET vUrl = '$(vBaseUrl)/orders?page=1';
LET vPage = 0;
DO
  LET vPage = vPage + 1;
  LIB CONNECT TO 'Orders API';
  RestConnectorMasterTable:
  SQL SELECT
      (SELECT "id", "status", "total", "__FK_data" FROM "data" FK "__FK_data"),
      (SELECT "__KEY_links", (SELECT "href", "__FK_next" FROM "next" FK "__FK_next")
       FROM "links" PK "__KEY_links")
  FROM JSON (wrap on) "root"
  WITH CONNECTION (URL "$(vUrl)");

  Orders:
  LOAD id AS OrderId, status AS Status, total AS Total, $(vPage) AS Page
  RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_data]);

  NextLink:
  LOAD href AS NextUrl RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_next]);
  LET vUrl = Peek('NextUrl', 0, 'NextLink');
  DROP TABLES RestConnectorMasterTable, NextLink;
LOOP WHILE Len(vUrl) > 0

TRACE Loaded $(=NoOfRows('Orders')) orders in $(vPage) pages;
"""


@pytest.mark.qscript_cassette("orders_pages.json")
def test_orders_script_reads_every_page(qscript_api, qscript_run):
    result = qscript_run(
        ORDERS_SCRIPT,
        variables={"vBaseUrl": qscript_api.url()},
        connections=qscript_api.connection("Orders API", "/orders", allow_with_connection=True),
    )

    assert [request.params for request in qscript_api.requests] == [{"page": "1"}, {"page": "2"}, {"page": "3"}]
    qscript_api.assert_all_used()
    assert result.log[-1] == "Loaded 5 orders in 3 pages"

    assert_fields(result, "Orders", ["OrderId", "Status", "Total", "Page"])
    assert_rowcount(result, "Orders", 5)
    assert_unique(result, "Orders", "OrderId")
    assert_table(result, "Orders", [
        {"OrderId": 1, "Status": "open", "Total": 10, "Page": 1},
        {"OrderId": 2, "Status": "paid", "Total": 20, "Page": 1},
        {"OrderId": 3, "Status": "open", "Total": 30, "Page": 2},
        {"OrderId": 4, "Status": "paid", "Total": 40, "Page": 2},
        {"OrderId": 5, "Status": "open", "Total": 50, "Page": 3},
    ])
    assert_no_synthetic_keys(result)
