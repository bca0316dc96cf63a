"""Train, calibrate and evaluate the classifier heads (intent, sentiment).

Train-time only: nothing here is imported by the enrichment at run time. The heads this
package writes are plain ``.npz`` files that :mod:`ticketlens.enrichment.heads` loads with
numpy alone.
"""
