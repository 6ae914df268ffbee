FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cdc_sync ./cdc_sync
RUN pip install --no-cache-dir .
USER nobody
ENTRYPOINT ["cdc-sync"]
